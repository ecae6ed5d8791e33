import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def fail_tasks_of_the_thread_pool(apps, schema_editor):
    """Tasks queued or running under the in-process thread pool died with the process that ran them;
    they would show "running" for ever and hold their quota reservations."""
    task_model = apps.get_model("tasks", "BackgroundTask")
    task_model.objects.filter(status__in=("queued", "running")).update(
        status="failed",
        finished=django.utils.timezone.now(),
        message="Berth was restarted for an upgrade while this task was queued or running, and the task was lost. "
        "Start the operation again if it is still needed.",
    )


class Migration(migrations.Migration):

    dependencies = [
        ('tasks', '0001_initial'),
        ('tenancy', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(fail_tasks_of_the_thread_pool, migrations.RunPython.noop),
        migrations.AddField(
            model_name='backgroundtask',
            name='arguments',
            field=models.JSONField(default=dict),
        ),
        migrations.AddField(
            model_name='backgroundtask',
            name='heartbeat',
            field=models.DateTimeField(blank=True, help_text='Last sign of life from its worker', null=True),
        ),
        migrations.AddField(
            model_name='backgroundtask',
            name='queue_id',
            field=models.UUIDField(blank=True, help_text="Its run in django-tasks' queue", null=True),
        ),
        migrations.AddField(
            model_name='backgroundtask',
            name='request_id',
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name='backgroundtask',
            name='target_key',
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name='backgroundtask',
            name='worker',
            field=models.CharField(blank=True, help_text='The worker running (or last running) it', max_length=255),
        ),
        migrations.AddConstraint(
            model_name='backgroundtask',
            constraint=models.UniqueConstraint(condition=models.Q(('status__in', ('queued', 'running'))), fields=('name', 'target_key'), name='one_active_task_per_target'),
        ),
    ]
