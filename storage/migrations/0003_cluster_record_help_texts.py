from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('storage', '0002_tenancy_models_from_dashboard'),
    ]

    operations = [
        migrations.AlterField(
            model_name='cephcluster',
            name='is_default',
            field=models.BooleanField(default=False, help_text='The cluster chosen when a request names none.'),
        ),
    ]
