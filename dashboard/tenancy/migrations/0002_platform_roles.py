"""Platform admin and auditor become roles of their own, granted by superusers (PlatformRole).

Every active staff user was a platform admin before: they get the platform admin role, so nobody loses
access; a superuser then makes auditors of those who only read the audit log. Frozen here: later code
must not change what this did.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def staff_become_platform_admins(apps, schema_editor):
    User = apps.get_model("auth", "User")
    PlatformRole = apps.get_model("tenancy", "PlatformRole")
    for user in User.objects.filter(is_staff=True, is_active=True, platform_role__isnull=True):
        PlatformRole.objects.create(user=user, role="platform_admin")


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="PlatformRole",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "role",
                    models.CharField(
                        choices=[
                            (
                                "platform_admin",
                                "platform admin: acts as admin in every tenant, manages pools and quotas",
                            ),
                            (
                                "auditor",
                                "auditor: reads and exports the audit log and every tenant's Activity; changes nothing",
                            ),
                        ],
                        max_length=20,
                    ),
                ),
                ("granted", models.DateTimeField(auto_now=True)),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="platform_role",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["user__username"],
            },
        ),
        migrations.RunPython(staff_become_platform_admins, migrations.RunPython.noop),
    ]
