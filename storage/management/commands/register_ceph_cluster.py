from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from dashboard.audit.services import recording
from storage.models import CephCluster


class Command(BaseCommand):
    help = (
        "Register (or update) a Ceph cluster Berth connects to, by ceph.conf + keyring or by "
        "monitor host + key file. Keys stay in their files; only paths are stored."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--client", default="client.admin", help="cephx entity, e.g. client.berth")
        parser.add_argument("--conf", default="", help="path of ceph.conf")
        parser.add_argument("--keyring", default="", help="path of the keyring (with --conf)")
        parser.add_argument("--mon-host", default="", help="monitor addresses (instead of --conf)")
        parser.add_argument("--key-file", default="", help="file holding only the base64 key (with --mon-host)")
        parser.add_argument("--default", action="store_true", help="make it the default cluster")

    @transaction.atomic
    def handle(self, *args, **options):
        cluster = CephCluster.objects.filter(name=options["name"]).first() or CephCluster(name=options["name"])
        cluster.client_name = options["client"]
        cluster.conf_path = options["conf"]
        cluster.keyring_path = options["keyring"]
        cluster.mon_host = options["mon_host"]
        cluster.key_path = options["key_file"]
        try:
            cluster.full_clean()
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
            ) from None
        parameters = {
            name: getattr(cluster, name)
            for name in ("client_name", "conf_path", "keyring_path", "mon_host", "key_path")
        }
        with recording(
            "storage.cluster.register",
            actor=None,
            target={"cluster": cluster.name},
            parameters={**parameters, "is_default": options["default"]},
        ):
            if options["default"]:
                CephCluster.objects.exclude(pk=cluster.pk).filter(is_default=True).update(is_default=False)
                cluster.is_default = True
            cluster.save()
        self.stdout.write(f"Ceph cluster {cluster.name} registered ({cluster.client_name}).")
