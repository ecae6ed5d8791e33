from django.db import migrations, models


class Migration(migrations.Migration):
    """Shrinking an image and rolling back to a snapshot lose data: they moved from operator to admin."""

    dependencies = [
        ("tenancy", "0003_api_tokens"),
    ]

    operations = [
        migrations.AlterField(
            model_name="membership",
            name="role",
            field=models.CharField(
                choices=[
                    ("viewer", "viewer: read"),
                    ("operator", "operator: create, grow, snapshot, clone, secrets"),
                    ("admin", "admin: also shrink, roll back, delete, purge and manage members"),
                ],
                default="viewer",
                max_length=10,
            ),
        ),
    ]
