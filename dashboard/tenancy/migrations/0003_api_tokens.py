"""API tokens of Berth's own (ApiToken): kept as a SHA-256 digest, with an expiry.

DRF's authtoken kept keys in clear (table authtoken_token, left behind once the app left
INSTALLED_APPS). Each key is moved as its digest, so it keeps working, with the expiry a new token
gets by default (90 days from the upgrade); then the table with the clear keys is dropped. Going back
does not bring the clear keys back: they are gone on purpose. Frozen here: later code must not change
what this did.
"""

import datetime as dt
import hashlib
import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

DRF_TOKEN_TABLE = "authtoken_token"
MIGRATED_TOKEN_DAYS = 90


def drf_tokens_hashed(apps, schema_editor):
    connection = schema_editor.connection
    if DRF_TOKEN_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("tenancy", "ApiToken")
    quote = schema_editor.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quote('key')}, {quote('created')}, {quote('user_id')} FROM {quote(DRF_TOKEN_TABLE)}")
        rows = cursor.fetchall()
    expires = timezone.now() + dt.timedelta(days=MIGRATED_TOKEN_DAYS)
    for key, created, user_id in rows:
        # Raw SQL on SQLite gives the time as text, in UTC; PostgreSQL gives an aware datetime.
        if isinstance(created, str):
            created = dt.datetime.fromisoformat(created)
        if created is not None and timezone.is_naive(created):
            created = created.replace(tzinfo=dt.timezone.utc)
        ApiToken.objects.create(
            id=uuid.uuid4(),
            user_id=user_id,
            name="API token from before tokens expired",
            prefix=key[:6],
            key_hash=hashlib.sha256(key.encode()).hexdigest(),
            created=created or timezone.now(),
            expires=expires,
        )
    schema_editor.execute(f"DROP TABLE {quote(DRF_TOKEN_TABLE)}")


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0002_platform_roles"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ApiToken",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=100)),
                ("prefix", models.CharField(max_length=16)),
                ("key_hash", models.CharField(max_length=64, unique=True)),
                ("created", models.DateTimeField(default=django.utils.timezone.now)),
                ("expires", models.DateTimeField()),
                ("last_used", models.DateTimeField(blank=True, null=True)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="api_tokens",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["user__username", "-created"],
            },
        ),
        migrations.RunPython(drf_tokens_hashed, migrations.RunPython.noop),
    ]
