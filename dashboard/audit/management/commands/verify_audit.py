from django.core.management.base import BaseCommand

from dashboard.audit.services import verify_chain


class Command(BaseCommand):
    help = "Check the audit log's hash chain; exit 1 and name the first broken link if it was tampered with."

    def handle(self, *args, **options):
        report = verify_chain()
        if not report.intact:
            self.stderr.write(f"Audit chain broken at event {report.broken_event_id}: {report.problem}")
            raise SystemExit(1)
        self.stdout.write(f"Audit chain intact: {report.events} events verified.")
