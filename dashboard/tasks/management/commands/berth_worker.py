"""A Berth worker: django-tasks' database worker, plus the reaper that fails tasks whose worker died.

Run any number of these, on any hosts that share Berth's database; each takes one task at a time.
"""

import os
import socket
import threading

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME
from django_tasks_db.management.commands.db_worker import Worker

from dashboard.tasks.services import tasks_reap_stale


def reap_periodically(stop: threading.Event) -> None:
    """Tasks of a worker that died are failed within BERTH_TASK_STALE_AFTER seconds of its last heartbeat,
    as long as any worker is alive to notice."""
    while not stop.wait(settings.BERTH_TASK_HEARTBEAT):
        try:
            tasks_reap_stale()
        finally:
            close_old_connections()


class Command(BaseCommand):
    help = "Run background tasks from Berth's queue (and fail the tasks of workers that died)."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between polls of an empty queue")
        parser.add_argument("--worker-id", default=f"{socket.gethostname()}-{os.getpid()}")

    def handle(self, *args, **options):
        # A worker that starts is the first to notice what the previous one left behind.
        tasks_reap_stale()
        stop = threading.Event()
        threading.Thread(target=reap_periodically, args=(stop,), name="berth-reaper", daemon=True).start()
        worker = Worker(
            queue_names=[DEFAULT_TASK_QUEUE_NAME],
            interval=options["interval"],
            batch=False,
            backend_name=DEFAULT_TASK_BACKEND_ALIAS,
            startup_delay=False,
            max_tasks=None,
            worker_id=options["worker_id"][:64],
            excluded_queue_names=[],
        )
        worker.configure_signals()
        try:
            worker.run()
        finally:
            stop.set()
