from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from dashboard.audit.services import recording
from registry.models import KubeCluster


class Command(BaseCommand):
    help = "Register (or update) a Kubernetes cluster by kubeconfig path; credentials stay in the file."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--kubeconfig", required=True)
        parser.add_argument("--context", default="")
        parser.add_argument("--default", action="store_true", help="make it the default cluster")

    @transaction.atomic
    def handle(self, *args, **options):
        if not Path(options["kubeconfig"]).is_file():
            raise CommandError(f"kubeconfig {options['kubeconfig']} does not exist")
        with recording(
            "registry.cluster.register",
            actor=None,
            target={"cluster": options["name"]},
            parameters={
                "kubeconfig_path": options["kubeconfig"],
                "context": options["context"],
                "is_default": options["default"],
            },
        ):
            cluster, _ = KubeCluster.objects.update_or_create(
                name=options["name"], defaults={"kubeconfig_path": options["kubeconfig"], "context": options["context"]}
            )
            if options["default"]:
                KubeCluster.objects.exclude(pk=cluster.pk).filter(is_default=True).update(is_default=False)
                KubeCluster.objects.filter(pk=cluster.pk).update(is_default=True)
        self.stdout.write(f"Kubernetes cluster {cluster.name} registered.")
