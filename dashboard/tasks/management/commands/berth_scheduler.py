"""Starts Berth's periodic jobs when they are due (one scheduler is enough; two do no harm)."""

import signal
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from dashboard.tasks.scheduler import periodic_jobs, scheduler_tick


class Command(BaseCommand):
    help = "Start Berth's periodic jobs as background tasks when they are due; the workers run them."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between looks at the schedule")

    def handle(self, *args, **options):
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        self.stderr.write(f"Scheduling {', '.join(sorted(periodic_jobs()))}")
        while not stop.is_set():
            try:
                scheduler_tick()
            finally:
                close_old_connections()
            stop.wait(options["interval"])
