#!/usr/bin/env python
"""API calls and seconds of a managed pull secret's reconcile over N namespaces.

Starts a throwaway kube-apiserver with its controller manager (tests/services/kube.py) and an
in-memory Berth database, makes N namespaces of one tenant and a source secret, then reports:
  (a) the API calls and seconds of the first reconcile (every copy created and linked);
  (b) the same for a steady-state reconcile (nothing to do);
  (c) after the source changes: seconds from the change to every copy updated, and its API calls.

Usage: .venv/bin/python benchmarks/managed_secrets.py [--namespaces 100]
"""

import argparse
import base64
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def source_data(password: str) -> dict[str, str]:
    auth = base64.b64encode(f"robot:{password}".encode()).decode()
    document = {"auths": {"registry.example.com": {"auth": auth}}}
    return {".dockerconfigjson": base64.b64encode(json.dumps(document).encode()).decode()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--namespaces", type=int, default=100)
    arguments = parser.parse_args()
    os.environ.setdefault("BERTH_DEBUG", "true")
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from kubernetes import client, config

    from dashboard.tenancy.models import Tenant
    from registry.models import KubeCluster, ManagedPullSecret, RegistryQuota
    from registry.services.managed import managed_secret_reconcile
    from tests.helpers import wait_for_service_account
    from tests.services.kube import KubeApiServer, ensure_binaries

    call_command("migrate", verbosity=0)
    with KubeApiServer(Path(tempfile.mkdtemp()), ensure_binaries()) as server:
        core = client.CoreV1Api(config.new_client_from_config(config_file=str(server.admin_kubeconfig)))
        names = [f"bench-{number:03d}" for number in range(arguments.namespaces)]
        for name in names:
            core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
        for name in names:
            wait_for_service_account(core, name)
        core.create_namespaced_secret(
            names[0],
            client.V1Secret(
                metadata=client.V1ObjectMeta(name="source"),
                type="kubernetes.io/dockerconfigjson",
                data=source_data("first"),
            ),
        )
        cluster = KubeCluster.objects.create(name="bench", kubeconfig_path=str(server.admin_kubeconfig))
        tenant = Tenant.objects.create(name="Bench", slug="bench")
        RegistryQuota.objects.create(tenant=tenant, kube_cluster=cluster, namespaces=names)
        managed = ManagedPullSecret.objects.create(
            tenant=tenant, name="team-pull", source_namespace=names[0], source_name="source"
        )

        def timed(label: str) -> None:
            managed.refresh_from_db()
            started = time.monotonic()
            result = managed_secret_reconcile(managed=managed)
            print(
                f"{label}: {result.api_calls} API calls, {time.monotonic() - started:.2f} s, "
                f"{len(result.repaired)} namespaces changed, errors: {len(result.errors)}"
            )

        timed(f"first reconcile, {len(names)} namespaces")
        timed("steady state")
        changed = time.monotonic()
        source = core.read_namespaced_secret("source", names[0])
        source.data = source_data("rotated")
        core.replace_namespaced_secret("source", names[0], source)
        timed("after a source change")
        expected = source_data("rotated")[".dockerconfigjson"]
        stale = [n for n in names if core.read_namespaced_secret("team-pull", n).data[".dockerconfigjson"] != expected]
        print(
            f"source change to every copy updated: {time.monotonic() - changed:.2f} s (+ up to one resync "
            f"interval when the change is made outside Berth); copies still stale: {len(stale)}"
        )


if __name__ == "__main__":
    main()
