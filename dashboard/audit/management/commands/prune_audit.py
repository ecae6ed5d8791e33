import datetime as dt
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from dashboard.audit.services import prune_events, write_anchor


class Command(BaseCommand):
    help = (
        "Archive audit events older than a date to a JSON Lines file, then delete them; a prune event "
        "with the archive's sha256 keeps the remaining chain verifiable. With --anchor, append the chain's "
        "state after the prune to an anchor file."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--before",
            required=True,
            type=dt.date.fromisoformat,
            metavar="YYYY-MM-DD",
            help="remove events older than this day (UTC)",
        )
        parser.add_argument(
            "--archive",
            type=Path,
            help="where to write the archive (default: BERTH_DATA_DIR/audit-archive/…); "
            "an existing file is never overwritten",
        )
        parser.add_argument(
            "--anchor",
            type=Path,
            metavar="PATH",
            help="append the chain's head hash, newest event id and event count after the prune to this "
            "anchor file (JSON Lines), for `verify_audit --against`",
        )

    def handle(self, *args, **options):
        before = options["before"]
        archive = options["archive"] or (
            Path(settings.DATA_DIR)
            / "audit-archive"
            / f"audit-before-{before.isoformat()}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}.jsonl"
        )
        try:
            result = prune_events(before=before, archive=archive)
        except FileExistsError:
            raise CommandError(f"{archive} exists already; choose another --archive path.") from None
        if result.pruned:
            self.stdout.write(
                f"Pruned {result.pruned} audit events into {result.archive} (sha256 {result.archive_sha256})."
            )
        else:
            self.stdout.write(f"No audit events before {before}; nothing pruned.")
        if options["anchor"]:
            write_anchor(options["anchor"], result.anchor)
            self.stdout.write(f"Anchored event {result.anchor.head_event_id} in {options['anchor']}.")
