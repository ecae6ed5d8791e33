import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """Tenant and Membership were the dashboard app's models. Their tables stay as they were
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
                    name="Tenant",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=100, unique=True)),
                        ("slug", models.SlugField(max_length=48, unique=True)),
                        ("description", models.TextField(blank=True)),
                    ],
                    options={
                        "db_table": "dashboard_tenant",
                        "ordering": ["name"],
                    },
                ),
                migrations.CreateModel(
                    name="Membership",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "role",
                            models.CharField(
                                choices=[
                                    ("viewer", "viewer: read"),
                                    ("operator", "operator: create, resize, snapshot, clone, secrets"),
                                    ("admin", "admin: also delete, purge and manage members"),
                                ],
                                default="viewer",
                                max_length=10,
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="tenant_memberships",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "tenant",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="memberships",
                                to="tenancy.tenant",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "dashboard_membership",
                        "ordering": ["tenant__name", "user__username"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("user", "tenant"), name="one_membership_per_user_and_tenant"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
