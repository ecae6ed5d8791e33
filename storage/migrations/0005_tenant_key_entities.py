import uuid

import django.db.models.deletion
from django.db import migrations, models

# Frozen: how keys were named before bindings had a key id, and how an audit event named a binding.
PREFIX = "client.berth-tenant-"


def _place(binding) -> str:
    return f"{binding.cluster.name}:{binding.pool}/{binding.namespace}"


def key_ids_and_earlier_keys(apps, schema_editor):
    """Give every binding its key id, and record the names its keys may have had until now:
    client.berth-tenant-<tenant slug when minted>-<binding pk>. The slug may have been renamed
    since, so the slugs named by the audit events of key creations for the binding's place count
    too. A name recorded here that Ceph does not know is harmless: revoking it is a no-op."""
    StorageBinding = apps.get_model("storage", "StorageBinding")
    TenantKeyEntity = apps.get_model("storage", "TenantKeyEntity")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    for binding in StorageBinding.objects.all():
        binding.key_id = uuid.uuid4()
        binding.save(update_fields=["key_id"])
    namespaced = {
        _place(binding): binding
        for binding in StorageBinding.objects.exclude(namespace="").select_related("tenant", "cluster")
    }
    slugs = {binding.pk: {binding.tenant.slug} for binding in namespaced.values()}
    created = AuditEvent.objects.filter(action="storage.tenant_key.create", outcome="success")
    for target, slug in created.values_list("target", "tenant_slug"):
        binding = namespaced.get((target or {}).get("binding"))
        if binding is not None and slug:
            slugs[binding.pk].add(slug)
    for binding in namespaced.values():
        for slug in sorted(slugs[binding.pk]):
            TenantKeyEntity.objects.get_or_create(
                cluster_id=binding.cluster_id, entity=f"{PREFIX}{slug}-{binding.pk}", defaults={"binding": binding}
            )


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("storage", "0004_usagesample"),
    ]

    operations = [
        migrations.CreateModel(
            name="TenantKeyEntity",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("entity", models.CharField(max_length=255)),
                ("created", models.DateTimeField(auto_now_add=True)),
                (
                    "binding",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="key_entities",
                        to="storage.storagebinding",
                    ),
                ),
                (
                    "cluster",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="storage.cephcluster"
                    ),
                ),
            ],
            options={
                "ordering": ["cluster__name", "entity"],
                "constraints": [
                    models.UniqueConstraint(fields=("cluster", "entity"), name="one_record_per_ceph_entity")
                ],
            },
        ),
        migrations.AddField(
            model_name="storagebinding",
            name="key_id",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.RunPython(key_ids_and_earlier_keys, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="storagebinding",
            name="key_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
