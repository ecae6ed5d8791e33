import datetime as dt
import hashlib
import json

import django.utils.timezone
from django.db import migrations, models

# The chain's hash as it was defined when this migration was written, frozen here so that later
# changes to how events are hashed cannot change what this migration wrote.
_HASHED_FIELDS = (
    "time",
    "actor_name",
    "tenant_slug",
    "source",
    "action",
    "target",
    "parameters",
    "outcome",
    "error",
    "duration_ms",
    "client_ip",
    "request_id",
    "prev_hash",
)


def chain_hash(event) -> str:
    content = {name: getattr(event, name) for name in _HASHED_FIELDS}
    content["time"] = event.time.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def chain_existing_events(apps, schema_editor):
    """Events written before the chain existed are chained in id order, so verification starts clean."""
    event_model = apps.get_model("dashboard", "AuditEvent")
    head_model = apps.get_model("dashboard", "AuditChainHead")
    previous = ""
    last_id = None
    for event in event_model.objects.order_by("id").iterator():
        event.prev_hash = previous
        event.hash = chain_hash(event)
        # The historical model has no append-only guard; this is the one sanctioned rewrite.
        event_model.objects.filter(pk=event.pk).update(prev_hash=event.prev_hash, hash=event.hash)
        previous, last_id = event.hash, event.pk
    if last_id is not None:
        head_model.objects.create(pk=1, last_hash=previous, last_event_id=last_id)


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0002_backgroundtask"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("last_hash", models.CharField(blank=True, max_length=64)),
                ("last_event_id", models.BigIntegerField(blank=True, null=True)),
            ],
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="time",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="actor_name",
            field=models.CharField(db_index=True, max_length=150),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="request_id",
            field=models.CharField(blank=True, db_index=True, max_length=64),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="tenant_slug",
            field=models.CharField(blank=True, db_index=True, max_length=64, verbose_name="tenant"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(db_index=True, default="", max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(chain_existing_events, migrations.RunPython.noop),
    ]
