from django.core.management.base import BaseCommand, CommandError

from dashboard.audit.services import recording
from dashboard.core.errors import BerthError
from storage.models import CephCluster
from storage.selectors import ceph_cluster_get
from storage.services import tenant_keys


class Command(BaseCommand):
    help = (
        "List the client.berth-tenant-* Ceph keys Berth minted whose storage binding is gone or now names "
        "another place (they still reach whatever the place's next owner stores there), and revoke them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cluster", help="the Ceph cluster's name in Berth (default: the default cluster)")
        parser.add_argument("--revoke", action="store_true", help="revoke every key listed")
        parser.add_argument(
            "--adopt",
            nargs="+",
            default=[],
            metavar="ENTITY",
            help="record entities Berth minted before it kept records (find them with `ceph auth ls` as an admin); "
            "those without their binding are then listed",
        )
        parser.add_argument(
            "--forget",
            nargs="+",
            default=[],
            metavar="ENTITY",
            help="drop Berth's record of these keys without touching Ceph, for a cluster that is gone for good",
        )

    def handle(self, *args, **options):
        try:
            # The command runs with the operator's own authority; the cluster lookup itself checks no role.
            cluster = ceph_cluster_get(actor=None, name=options["cluster"])
            for entity in options["adopt"]:
                self._adopt(cluster, entity)
            for entity in options["forget"]:
                with recording("storage.tenant_key.forget", actor=None, target={"cluster": cluster, "entity": entity}):
                    tenant_keys.forget_entity(cluster, entity)
                self.stdout.write(f"Forgot {entity}.")
            orphans = tenant_keys.find_orphans(cluster)
        except BerthError as error:
            raise CommandError(error.message) from None
        if not orphans:
            self.stdout.write(f"Every tenant key Berth knows of on Ceph cluster {cluster.name} belongs to a binding.")
            return
        failed = 0
        for orphan in orphans:
            owner = f"tenant {orphan.now_bound_to}" if orphan.now_bound_to else "nobody"
            place = f"{orphan.pool}/{orphan.namespace}" if orphan.namespace else orphan.pool or "an unknown place"
            self.stdout.write(f"{orphan.entity}\t{place} (now bound to {owner})\t{orphan.reason}")
            if options["revoke"]:
                failed += not self._revoke(cluster, orphan.entity)
        if failed:
            raise CommandError(f"{failed} of {len(orphans)} keys could not be revoked.")

    def _adopt(self, cluster: CephCluster, entity: str) -> None:
        with recording("storage.tenant_key.adopt", actor=None, target={"cluster": cluster, "entity": entity}) as entry:
            record = tenant_keys.adopt_entity(cluster, entity)
            entry.parameters = {"binding": str(record.binding) if record.binding else ""}
        self.stdout.write(f"Recorded {entity}" + (f" as the key of {record.binding}." if record.binding else "."))

    def _revoke(self, cluster: CephCluster, entity: str) -> bool:
        try:
            with recording(
                "storage.tenant_key.orphan_revoke", actor=None, target={"cluster": cluster, "entity": entity}
            ):
                tenant_keys.revoke_orphan(cluster, entity)
        except BerthError as error:
            self.stderr.write(f"{entity} was not revoked: {error.message}")
            return False
        self.stdout.write(f"Revoked {entity}.")
        return True
