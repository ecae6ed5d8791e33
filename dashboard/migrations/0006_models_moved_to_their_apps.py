from django.db import migrations

# Which app each model left the dashboard app for (see the apps' first migrations).
MOVED = {
    "auditevent": "audit",
    "auditchainhead": "audit",
    "tenant": "tenancy",
    "membership": "tenancy",
    "backgroundtask": "tasks",
    "storagebinding": "storage",
    "storagequota": "storage",
    "quotareservation": "storage",
    "registryquota": "registry",
}


def _relabel_content_types(apps, schema_editor, *, forward: bool):
    """Permissions hang on content types: relabelling them keeps every permission already granted
    (e.g. an auditor's "view audit event") attached to the model in its new app."""
    content_type = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model, app in MOVED.items():
        old, new = ("dashboard", app) if forward else (app, "dashboard")
        if content_type.objects.using(db).filter(app_label=new, model=model).exists():
            continue
        content_type.objects.using(db).filter(app_label=old, model=model).update(app_label=new)


def forwards(apps, schema_editor):
    _relabel_content_types(apps, schema_editor, forward=True)


def backwards(apps, schema_editor):
    _relabel_content_types(apps, schema_editor, forward=False)


class Migration(migrations.Migration):
    """The dashboard app's models moved to the core apps (audit, tenancy, tasks) and the feature apps
    (storage, registry); the tables stay, only the state is handed over."""

    dependencies = [
        ("dashboard", "0005_backgroundtask_tenant"),
        ("audit", "0001_initial"),
        ("tenancy", "0001_initial"),
        ("tasks", "0001_initial"),
        ("storage", "0002_tenancy_models_from_dashboard"),
        ("registry", "0002_registryquota_from_dashboard"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="QuotaReservation"),
                migrations.DeleteModel(name="StorageQuota"),
                migrations.DeleteModel(name="StorageBinding"),
                migrations.DeleteModel(name="RegistryQuota"),
                migrations.DeleteModel(name="Membership"),
                migrations.DeleteModel(name="BackgroundTask"),
                migrations.DeleteModel(name="Tenant"),
                migrations.DeleteModel(name="AuditEvent"),
                migrations.DeleteModel(name="AuditChainHead"),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
