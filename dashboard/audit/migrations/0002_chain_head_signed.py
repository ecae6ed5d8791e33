import hashlib
import hmac
import json

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import migrations, models


# The head's signature as it was defined when this migration was written, frozen here so that later
# changes to it cannot change what this migration wrote.
def _head_mac(head, key: str) -> str:
    fields = {"last_event_id": head.last_event_id, "last_hash": head.last_hash, "key_id": head.key_id}
    message = b"berth audit chain head:" + json.dumps(fields, sort_keys=True).encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def sign_existing_head(apps, schema_editor):
    """The events of an existing database stay as they are, plain sha256 (key id empty); signing their head
    with the audit key now pins them down. The next event records the switch to the key (a rekey event)."""
    head = apps.get_model("audit", "AuditChainHead").objects.filter(pk=1).first()
    if head is None:
        return
    if not settings.BERTH_AUDIT_KEYS:
        raise ImproperlyConfigured("Set BERTH_AUDIT_KEY_FILE before migrating: the audit chain head is signed with it.")
    head.key_id = ""
    head.mac = _head_mac(head, settings.BERTH_AUDIT_KEYS[0])
    head.save(update_fields=["key_id", "mac"])


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditchainhead",
            name="key_id",
            field=models.CharField(blank=True, max_length=16),
        ),
        migrations.AddField(
            model_name="auditchainhead",
            name="mac",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.RunPython(sign_existing_head, migrations.RunPython.noop),
    ]
