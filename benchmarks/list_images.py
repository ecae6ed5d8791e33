#!/usr/bin/env python
"""How fast Berth lists a big pool, compared with `rbd ls -l`.

Creates a pool of 2,000 images of random sizes (--images 10000 for the large run) on a
throwaway dev cluster (scripts/ceph-dev-cluster, stopped afterwards) or on the cluster given
with --conf/--keyring, then times in one run:
  (a) `rbd ls -l --format json`, which opens every image;
  (b) Berth's API returning every row sorted by size (page_size = the whole pool);
  (c) Berth's API returning the first page of 50 rows sorted by name.
Berth is driven in-process through Django's test client, so (b) and (c) include URL routing,
authentication, validation, the service call and JSON rendering, but no network.

Usage: .venv/bin/python benchmarks/list_images.py [--images N] [--repeat R]
                                                  [--conf ceph.conf --keyring admin.keyring]
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=2000, help="images in the pool (default 2000; try 10000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each listing; the median is shown")
    parser.add_argument("--conf", help="ceph.conf of an existing cluster (default: start a throwaway one)")
    parser.add_argument("--keyring", help="client.admin keyring of that cluster")
    return parser.parse_args()


def start_dev_cluster(workdir: Path) -> dict[str, str]:
    result = subprocess.run(
        [str(ROOT / "scripts" / "ceph-dev-cluster"), "start", str(workdir)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "CEPH_MON_PORT": "3390"},
    )
    return dict(line.split("=", 1) for line in result.stdout.splitlines() if line.startswith("CEPH_"))


def setup_django(data_dir: Path) -> None:
    os.environ.update(
        BERTH_DEBUG="true",
        BERTH_ALLOWED_HOSTS="testserver",
        BERTH_DATA_DIR=str(data_dir),
        BERTH_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="dashboard.settings",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def timed(function, repeat: int) -> tuple[float, object]:
    durations, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations), result


def main() -> None:
    arguments = parse_arguments()
    with tempfile.TemporaryDirectory(prefix="berth-bench-") as scratch:
        scratch = Path(scratch)
        stop_cluster = None
        if arguments.conf:
            conf, admin_keyring = arguments.conf, arguments.keyring
        else:
            print("starting a throwaway Ceph cluster…", file=sys.stderr)
            endpoints = start_dev_cluster(scratch / "ceph")
            conf, admin_keyring = endpoints["CEPH_CONF"], endpoints["CEPH_ADMIN_KEYRING"]
            stop_cluster = [str(ROOT / "scripts" / "ceph-dev-cluster"), "stop", str(scratch / "ceph")]
        try:
            run(arguments, scratch, conf, admin_keyring)
        finally:
            if stop_cluster:
                subprocess.run(stop_cluster, check=False, capture_output=True)


def run(arguments: argparse.Namespace, scratch: Path, conf: str, admin_keyring: str) -> None:
    setup_django(scratch / "berth")
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from storage.models import CephCluster
    from storage.services.images import image_create
    from storage.services.pools import pool_create, pool_delete

    cli = ["-c", conf, "-n", "client.admin", "-k", admin_keyring]
    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-password-123")
    cluster = CephCluster.objects.create(
        name="bench", client_name="client.admin", conf_path=conf, keyring_path=admin_keyring, is_default=True
    )
    pool = f"berth-bench-{random.randrange(16**6):06x}"
    pool_create(actor=user, cluster=cluster, name=pool, pg_num=32)
    try:
        print(f"creating {arguments.images} images in {pool}…", file=sys.stderr)
        started = time.perf_counter()
        sizes = [random.randrange(4, 1024) * 2**20 for _ in range(arguments.images)]

        # One at a time: every creation writes an audit row, and SQLite takes one writer at a time.
        for index, size in enumerate(sizes):
            image_create(
                actor=user,
                cluster=cluster,
                pool=pool,
                namespace="",
                name=f"vol-{index:05d}",
                size=size,
                features="minimal",
            )
        print(f"created in {time.perf_counter() - started:.1f} s", file=sys.stderr)

        def rbd_ls() -> list:
            output = subprocess.run(
                ["rbd", *cli, "ls", "-l", "--format", "json", pool], check=True, capture_output=True, text=True
            ).stdout
            return json.loads(output)

        client = Client()
        client.force_login(user)
        url = reverse("api:storage-image-list", kwargs={"pool": pool})

        def api(**query) -> dict:
            response = client.get(url, query)
            assert response.status_code == 200, response.content[:500]
            return response.json()

        # One untimed call of each so connection setup is not measured as listing.
        rbd_ls(), api(ordering="name", page_size=50)

        seconds_rbd, rows = timed(rbd_ls, arguments.repeat)
        seconds_all, everything = timed(lambda: api(ordering="size", page_size=arguments.images), arguments.repeat)
        seconds_page, page = timed(lambda: api(ordering="name", page_size=50), arguments.repeat)

        assert len(rows) == arguments.images, f"rbd ls -l listed {len(rows)} images"
        listed_sizes = [row["size"] for row in everything["results"]]
        assert len(listed_sizes) == arguments.images and listed_sizes == sorted(sizes), "API rows wrong"
        assert [row["name"] for row in page["results"]] == [f"vol-{i:05d}" for i in range(50)]

        print(f"images in pool:                                  {arguments.images}")
        print(f"(a) rbd ls -l --format json:                     {seconds_rbd * 1000:9.1f} ms")
        print(f"(b) Berth API, all {arguments.images} rows sorted by size:    {seconds_all * 1000:9.1f} ms")
        print(f"(c) Berth API, first 50 rows sorted by name:     {seconds_page * 1000:9.1f} ms")
        print(f"ratio (a)/(b):                                   {seconds_rbd / seconds_all:9.1f}x  (target >= 10x)")
        print(f"(c) under 100 ms:                                {'yes' if seconds_page < 0.1 else 'NO'}")
    finally:
        pool_delete(actor=user, cluster=cluster, name=pool, confirm_name=pool)


if __name__ == "__main__":
    main()
