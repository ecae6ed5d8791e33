import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """StorageBinding, StorageQuota and QuotaReservation were the dashboard app's models. Their tables stay as they were
    (db_table keeps the old names); only the state moves, and dashboard 0006 drops them from the dashboard app."""

    dependencies = [
        ("dashboard", "0005_backgroundtask_tenant"),
        ("storage", "0001_initial"),
        ("tasks", "0001_initial"),
        ("tenancy", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="QuotaReservation",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("images", models.PositiveIntegerField(default=0)),
                        ("provisioned_bytes", models.PositiveBigIntegerField(default=0)),
                        (
                            "task",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="tasks.backgroundtask"
                            ),
                        ),
                        (
                            "tenant",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="tenancy.tenant"
                            ),
                        ),
                    ],
                    options={
                        "db_table": "dashboard_quotareservation",
                    },
                ),
                migrations.CreateModel(
                    name="StorageQuota",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("max_images", models.PositiveIntegerField(blank=True, null=True)),
                        (
                            "max_provisioned_gib",
                            models.PositiveIntegerField(
                                blank=True,
                                help_text="Sum of the sizes of the tenant's images.",
                                null=True,
                                verbose_name="max provisioned GiB",
                            ),
                        ),
                        (
                            "max_image_gib",
                            models.PositiveIntegerField(blank=True, null=True, verbose_name="max GiB per image"),
                        ),
                        ("max_snapshots", models.PositiveIntegerField(blank=True, null=True)),
                        (
                            "tenant",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="storage_quota",
                                to="tenancy.tenant",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "dashboard_storagequota",
                    },
                ),
                migrations.CreateModel(
                    name="StorageBinding",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("pool", models.CharField(max_length=255)),
                        ("namespace", models.CharField(blank=True, help_text="Empty: the whole pool.", max_length=255)),
                        (
                            "cluster",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="storage.cephcluster"
                            ),
                        ),
                        (
                            "tenant",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="storage_bindings",
                                to="tenancy.tenant",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "dashboard_storagebinding",
                        "ordering": ["cluster__name", "pool", "namespace"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("cluster", "pool", "namespace"), name="one_tenant_per_pool_namespace"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
