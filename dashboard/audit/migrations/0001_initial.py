import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """AuditEvent and AuditChainHead were the dashboard app's models. Their tables stay as they were
    (db_table keeps the old names); only the state moves, and dashboard 0006 drops them from the dashboard app."""

    initial = True

    dependencies = [
        ("dashboard", "0005_backgroundtask_tenant"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditChainHead",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("last_hash", models.CharField(blank=True, max_length=64)),
                        ("last_event_id", models.BigIntegerField(blank=True, null=True)),
                    ],
                    options={
                        "db_table": "dashboard_auditchainhead",
                    },
                ),
                migrations.CreateModel(
                    name="AuditEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("time", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        ("actor_name", models.CharField(db_index=True, max_length=150)),
                        (
                            "tenant_slug",
                            models.CharField(blank=True, db_index=True, max_length=64, verbose_name="tenant"),
                        ),
                        (
                            "source",
                            models.CharField(
                                choices=[
                                    ("ui", "ui"),
                                    ("api", "api"),
                                    ("admin", "admin"),
                                    ("cli", "cli"),
                                    ("task", "task"),
                                ],
                                max_length=8,
                            ),
                        ),
                        ("action", models.CharField(db_index=True, max_length=100)),
                        ("target", models.JSONField(default=dict)),
                        ("parameters", models.JSONField(default=dict)),
                        (
                            "outcome",
                            models.CharField(
                                choices=[("success", "success"), ("denied", "denied"), ("failed", "failed")],
                                db_index=True,
                                max_length=8,
                            ),
                        ),
                        ("error", models.TextField(blank=True)),
                        ("duration_ms", models.PositiveIntegerField(default=0)),
                        ("client_ip", models.GenericIPAddressField(blank=True, null=True)),
                        ("request_id", models.CharField(blank=True, db_index=True, max_length=64)),
                        ("prev_hash", models.CharField(blank=True, max_length=64)),
                        ("hash", models.CharField(db_index=True, max_length=64)),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "dashboard_auditevent",
                        "ordering": ["-id"],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
