from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.audit.services import check_anchor, read_anchor, verify_chain, write_anchor
from dashboard.core.errors import BerthError


class Command(BaseCommand):
    help = (
        "Check the audit log's hash chain; exit 1 and name the first broken link if it was tampered with. "
        "With --against, also check it against the newest anchor in an anchor file; with --anchor, append "
        "the verified state to one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--against",
            type=Path,
            metavar="PATH",
            help="an anchor file (JSON Lines) written earlier: the log must still hold its newest anchor's head "
            "event with the same hash, and at least as many events up to it",
        )
        parser.add_argument(
            "--anchor",
            type=Path,
            metavar="PATH",
            help="append the head hash, the newest event id and the event count to this file when the chain "
            "verifies; keep it where Berth's database users cannot write",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            anchor = read_anchor(options["against"]) if options["against"] else None
        except BerthError as error:
            raise CommandError(error.message) from None
        report = verify_chain()
        if not report.intact:
            self.stderr.write(f"Audit chain broken at event {report.broken_event_id}: {report.problem}")
            raise SystemExit(1)
        if anchor is not None:
            problem = check_anchor(anchor)
            if problem:
                self.stderr.write(f"Audit chain does not match the anchor in {options['against']}: {problem}")
                raise SystemExit(1)
        unkeyed = f" ({report.unkeyed_events} of them from before the chain was keyed)" if report.unkeyed_events else ""
        against = f", consistent with the anchor of {anchor.time}" if anchor is not None else ""
        self.stdout.write(f"Audit chain intact: {report.events} events verified{unkeyed}{against}.")
        if options["anchor"]:
            write_anchor(options["anchor"], report.anchor())
            self.stdout.write(f"Anchored event {report.head_event_id} ({report.events} events) in {options['anchor']}.")
