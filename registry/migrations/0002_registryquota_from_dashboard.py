import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """RegistryQuota were the dashboard app's models. Their tables stay as they were
    (db_table keeps the old names); only the state moves, and dashboard 0006 drops them from the dashboard app."""

    dependencies = [
        ("dashboard", "0005_backgroundtask_tenant"),
        ("registry", "0001_initial"),
        ("tenancy", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="RegistryQuota",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "namespaces",
                            models.JSONField(
                                blank=True,
                                default=list,
                                help_text='Kubernetes namespaces the tenant may use, e.g. ["team-a", "team-a-ci"].',
                            ),
                        ),
                        ("max_pull_secrets_per_namespace", models.PositiveIntegerField(blank=True, null=True)),
                        (
                            "kube_cluster",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="registry.kubecluster"
                            ),
                        ),
                        (
                            "tenant",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="registry_quota",
                                to="tenancy.tenant",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "dashboard_registryquota",
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
