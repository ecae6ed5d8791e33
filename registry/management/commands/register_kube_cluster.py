from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from dashboard.audit.services import recording
from registry.models import KubeCluster


class Command(BaseCommand):
    help = (
        "Register (or update) a Kubernetes cluster by kubeconfig path, or with --in-cluster as the cluster "
        "Berth runs in (through its pods' ServiceAccount); credentials stay in their files."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        how = parser.add_mutually_exclusive_group(required=True)
        how.add_argument("--kubeconfig")
        how.add_argument(
            "--in-cluster", action="store_true", help="this cluster, reached with the pod's ServiceAccount token"
        )
        parser.add_argument("--context", default="")
        parser.add_argument("--default", action="store_true", help="make it the default cluster")

    @transaction.atomic
    def handle(self, *args, **options):
        kubeconfig = options["kubeconfig"] or ""
        if options["in_cluster"] and options["context"]:
            raise CommandError("--context names a context in a kubeconfig; --in-cluster uses none")
        if kubeconfig and not Path(kubeconfig).is_file():
            raise CommandError(f"kubeconfig {kubeconfig} does not exist")
        with recording(
            "registry.cluster.register",
            actor=None,
            target={"cluster": options["name"]},
            parameters={
                "kubeconfig_path": kubeconfig,
                "context": options["context"],
                "in_cluster": options["in_cluster"],
                "is_default": options["default"],
            },
        ):
            cluster, _ = KubeCluster.objects.update_or_create(
                name=options["name"],
                defaults={
                    "kubeconfig_path": kubeconfig,
                    "context": options["context"],
                    "in_cluster": options["in_cluster"],
                },
            )
            if options["default"]:
                KubeCluster.objects.exclude(pk=cluster.pk).filter(is_default=True).update(is_default=False)
                KubeCluster.objects.filter(pk=cluster.pk).update(is_default=True)
        how = "the cluster Berth runs in" if cluster.in_cluster else f"kubeconfig {cluster.kubeconfig_path}"
        self.stdout.write(f"Kubernetes cluster {cluster.name} registered ({how}).")
