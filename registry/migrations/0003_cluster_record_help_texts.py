from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0002_registryquota_from_dashboard'),
    ]

    operations = [
        migrations.AlterField(
            model_name='kubecluster',
            name='is_default',
            field=models.BooleanField(default=False, help_text='The cluster chosen when a request names none.'),
        ),
        migrations.AlterField(
            model_name='kubecluster',
            name='name',
            field=models.SlugField(help_text="Short name shown in Berth, e.g. 'prod-east'.", max_length=64, unique=True),
        ),
    ]
