#!/usr/bin/env python
"""How fast Berth lists a big pool, against `rbd ls -l` and against the raw reads beneath it.

Fills a pool with --images images of random sizes (bare RBD.create, no data) on a throwaway dev
cluster (scripts/ceph-dev-cluster, stopped afterwards) or on the cluster given with --conf/--keyring,
then measures in one run:
  rbd ls -l       `rbd ls -l --format json`, which opens every image;
  floor           plain Python, no Django, in a fresh process: connect, `list2`, and pipelined
                  asynchronous reads of the `size`, `features` and `order` omap keys of every
                  `rbd_header.<id>` (all in flight), rows sorted by size; once more with the
                  client-side timeouts Berth's connections set (librados then arms a timer per read);
  Berth cold      a fresh process with an empty image list cache that has answered only /healthz: the
                  first list, the API's every row sorted by size (connecting to Ceph included, as in
                  the floor);
  Berth warm      the same request repeated in a process that has served it (the cache warm);
  first page      the API's first 50 rows under each sort, warm;
  create          Berth's image_create service against a bare RBD.create on a connection of its own, --creates
                  each, alternating one of each in one process.
Berth is driven in-process through Django's test client: URL routing, authentication, validation, the
service call and JSON rendering, no network (benchmarks/http_load.py measures over HTTP), with production
settings: debug on would time Django's query log, which on SQLite runs one more query per query to quote
its parameters. Each timing is the median of --repeat runs; cold and floor runs alternate, and so do the
two creates, so that load from elsewhere hits both alike. Alternating the creates also gives the bare
one the pause between creates that any real caller leaves: back to back in a tight loop, each create
finds librados and the OSD still awake from the last one and comes back about a millisecond sooner.

Usage: .venv/bin/python benchmarks/list_images.py [--images N] [--repeat R] [--creates C]
                                                  [--conf ceph.conf --keyring admin.keyring]
"""

import argparse
import errno
import json
import os
import random
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIRST_PAGE_ORDERINGS = ("name", "-name", "size", "-size", "created", "-created")


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=2000, help="images in the pool (default 2000; try 10000)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each listing; the median is shown")
    parser.add_argument("--creates", type=int, default=100, help="images created by each of the two create paths")
    parser.add_argument("--conf", help="ceph.conf of an existing cluster (default: start a throwaway one)")
    parser.add_argument("--keyring", help="client.admin keyring of that cluster")
    parser.add_argument("--worker", choices=("populate", "floor", "berth-cold"), help=argparse.SUPPRESS)
    parser.add_argument("--pool", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--timeouts", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# --- Workers: fresh processes, plain Python unless they say otherwise -----------------------------


def _connect(conf: str, keyring: str, pool: str, extra: dict[str, str] | None = None):
    import rados

    cluster = rados.Rados(conffile=conf, name="client.admin", conf={"keyring": keyring, **(extra or {})})
    cluster.connect()
    return cluster, cluster.open_ioctx(pool)


def worker_populate(arguments: argparse.Namespace) -> None:
    import rbd

    cluster, ioctx = _connect(arguments.conf, arguments.keyring, arguments.pool)
    rng = random.Random(17)
    for index in range(arguments.images):
        size = rng.randrange(4, 1024) * 2**20
        # librbd makes an image's id from the client's instance id and a 32-bit random number: among 50,000
        # images made by one client two ids collide about one run in four, which cls_rbd refuses with EBADF
        # (the create is rolled back). Another try draws another id.
        for attempt in range(3):
            try:
                rbd.RBD().create(ioctx, f"vol-{index:05d}", size, old_format=False, features=1)
                break
            except rbd.OSError as error:
                if error.errno != errno.EBADF or attempt == 2:
                    raise
    cluster.shutdown()


def worker_floor(arguments: argparse.Namespace) -> None:
    import rados
    import rbd

    size_of = struct.Struct("<Q").unpack_from
    # Berth's handles carry client-side timeouts (storage/services/connection.py); librados then arms a timer
    # for every operation, which this variant of the floor measures.
    timeouts = {"rados_osd_op_timeout": "4", "rados_mon_op_timeout": "4", "client_mount_timeout": "4"}
    started = time.perf_counter()
    cluster, ioctx = _connect(arguments.conf, arguments.keyring, arguments.pool, timeouts if arguments.timeouts else {})
    entries = [(entry["name"], entry["id"]) for entry in rbd.RBD().list2(ioctx)]
    in_flight = []
    for name, image_id in entries:
        op = ioctx.create_read_op()
        values, _ = ioctx.get_omap_vals_by_keys(op, ("size", "features", "order"))
        in_flight.append((name, op, values, ioctx.operate_aio_read_op(op, f"rbd_header.{image_id}")))
    rows = []
    for name, op, values, completion in in_flight:
        completion.wait_for_complete()
        header = dict(values)
        rows.append((name, size_of(header["size"])[0], header["order"][0], size_of(header["features"])[0]))
        ioctx.release_read_op(op)
    rows.sort(key=lambda row: (row[1], row[0]))
    seconds = time.perf_counter() - started
    assert isinstance(ioctx, rados.Ioctx) and len(rows) == len(entries)
    cluster.shutdown()
    print(json.dumps({"seconds": seconds, "rows": len(rows)}))


def worker_berth_cold(arguments: argparse.Namespace) -> None:
    setup_django(Path(arguments.data_dir), migrate=False)
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    import dashboard.wsgi  # noqa: F401  (loaded as gunicorn loads it, which also freezes the start-up heap)
    from storage.models import CephCluster
    from storage.services import image_cache

    cluster = CephCluster.objects.get(name="bench")
    image_cache.forget_everywhere(cluster=cluster, pool=arguments.pool, namespace="")
    client = Client()
    client.force_login(get_user_model().objects.get(username="bench"))
    url = reverse("api:storage-image-list", kwargs={"pool": arguments.pool})
    # As a served process is once it has answered anything: middleware built, URL map loaded. Ceph is not
    # touched, so connecting to it counts in the timed request, as it does in the floor.
    assert client.get(reverse("healthz")).status_code == 200
    started = time.perf_counter()
    response = client.get(url, {"ordering": "size", "page_size": arguments.images})
    seconds = time.perf_counter() - started
    assert response.status_code == 200, response.content[:500]
    assert len(json.loads(response.content)["results"]) == arguments.images
    image_cache.wait_for_revalidation()  # the rows are shared from a thread; a served process lives on
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_kib": peak}))


# --- The run ----------------------------------------------------------------------------------


def start_dev_cluster(workdir: Path) -> dict[str, str]:
    result = subprocess.run(
        [str(ROOT / "scripts" / "ceph-dev-cluster"), "start", str(workdir)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "CEPH_MON_PORT": "3390"},
    )
    return dict(line.split("=", 1) for line in result.stdout.splitlines() if line.startswith("CEPH_"))


def setup_django(data_dir: Path, *, migrate: bool = True) -> None:
    (data_dir / "static").mkdir(parents=True, exist_ok=True)
    os.environ.update(
        BERTH_DEBUG="false",
        BERTH_SECRET_KEY="benchmark-secret-key-not-for-production-0123456789",
        BERTH_AUDIT_KEY="benchmark-audit-key-not-for-production-0123456789",
        BERTH_ALLOWED_HOSTS="testserver",
        BERTH_DATA_DIR=str(data_dir),
        BERTH_STATIC_ROOT=str(data_dir / "static"),  # nothing static is asked for; whitenoise wants the folder
        BERTH_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="dashboard.settings",
    )
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        call_command("createcachetable", verbosity=0)


def timed(function, repeat: int) -> tuple[float, object]:
    durations, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations), result


def create_both(count: int, user, cluster, pool: str, conf: str, keyring: str) -> tuple[float, float]:
    """Median seconds of a bare RBD.create (a plain connection as the workers', no Django) and of Berth's
    image_create, one of each in turn."""
    import rbd

    from storage.services.images import image_create

    bare_cluster, ioctx = _connect(conf, keyring, pool)
    bare, berth = [], []
    try:
        for index in range(count):
            started = time.perf_counter()
            rbd.RBD().create(ioctx, f"bare-{index:05d}", 2**30, order=22, old_format=False, features=1)
            bare.append(time.perf_counter() - started)
            started = time.perf_counter()
            image_create(
                actor=user, cluster=cluster, pool=pool, namespace="", name=f"berth-{index:05d}", size=2**30,
                features="minimal",
            )  # fmt: skip
            berth.append(time.perf_counter() - started)
    finally:
        ioctx.close()
        bare_cluster.shutdown()
    return statistics.median(bare), statistics.median(berth)


def main() -> None:
    arguments = parse_arguments()
    if arguments.worker:
        globals()[f"worker_{arguments.worker.replace('-', '_')}"](arguments)
        return
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

    import dashboard.wsgi  # noqa: F401  (the warm figures are those of a served process: start-up heap frozen)
    from storage.models import CephCluster
    from storage.services.pools import pool_create, pool_delete

    cli = ["-c", conf, "-n", "client.admin", "-k", admin_keyring]
    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-password-123")
    cluster = CephCluster.objects.create(
        name="bench", client_name="client.admin", conf_path=conf, keyring_path=admin_keyring, is_default=True
    )
    pool = f"berth-bench-{random.randrange(16**6):06x}"
    creates_pool = f"{pool}-creates"
    pool_create(actor=user, cluster=cluster, name=pool, pg_num=32)
    pool_create(actor=user, cluster=cluster, name=creates_pool, pg_num=32)

    def worker(kind: str, *extra: str, target: str = pool) -> dict:
        command = [sys.executable, __file__, "--worker", kind, "--conf", conf, "--keyring", admin_keyring]
        command += ["--pool", target, "--images", str(arguments.images), "--creates", str(arguments.creates), *extra]
        finished = subprocess.run(command, capture_output=True, text=True)
        if finished.returncode:
            raise SystemExit(f"the {kind} worker failed (exit {finished.returncode}):\n{finished.stderr[-3000:]}")
        output = finished.stdout
        return json.loads(output.splitlines()[-1]) if output.strip() else {}

    try:
        print(f"creating {arguments.images} images in {pool}…", file=sys.stderr)
        started = time.perf_counter()
        worker("populate")
        print(f"created in {time.perf_counter() - started:.1f} s", file=sys.stderr)

        def rbd_ls() -> list:
            output = subprocess.run(
                ["rbd", *cli, "ls", "-l", "--format", "json", pool], check=True, capture_output=True, text=True
            ).stdout
            return json.loads(output)

        client = Client()
        client.force_login(user)
        url = reverse("api:storage-image-list", kwargs={"pool": pool})

        def api_body(**query) -> bytes:
            response = client.get(url, query)
            assert response.status_code == 200, response.content[:500]
            return response.content

        def api(**query) -> dict:
            return json.loads(api_body(**query))

        seconds_rbd, rows = timed(rbd_ls, 1)
        assert len(rows) == arguments.images, f"rbd ls -l listed {len(rows)} images"
        expected_sizes = sorted(row["size"] for row in rows)
        del rows  # 10,000 dicts the served process would not hold, for the cyclic collector to walk

        floors, timed_floors, colds, cold_peak = [], [], [], 0
        for _ in range(arguments.repeat):
            floors.append(worker("floor")["seconds"])
            timed_floors.append(worker("floor", "--timeouts")["seconds"])
            cold = worker("berth-cold", "--data-dir", str(scratch / "berth"))
            colds.append(cold["seconds"])
            cold_peak = max(cold_peak, cold["peak_kib"])
        seconds_floor, seconds_cold = statistics.median(floors), statistics.median(colds)
        seconds_timed_floor = statistics.median(timed_floors)

        api_body(ordering="size", page_size=arguments.images)  # fills this process's cache
        # Timed as a client sees it, the body as bytes; decoded for the check afterwards.
        seconds_warm, body = timed(lambda: api_body(ordering="size", page_size=arguments.images), arguments.repeat)
        assert [row["size"] for row in json.loads(body)["results"]] == expected_sizes, "API rows wrong"
        del body
        first_pages = {}
        for ordering in FIRST_PAGE_ORDERINGS:
            first_pages[ordering], page = timed(lambda o=ordering: api(ordering=o, page_size=50), arguments.repeat * 4)
            assert len(page["results"]) == 50
        assert [row["name"] for row in api(ordering="name", page_size=50)["results"]] == [
            f"vol-{i:05d}" for i in range(50)
        ]

        seconds_bare, seconds_create = create_both(arguments.creates, user, cluster, creates_pool, conf, admin_keyring)
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        def line(label: str, seconds: float, note: str = "") -> None:
            print(f"  {label:<44} {seconds * 1000:10.1f} ms   rbd ls -l / this {seconds_rbd / seconds:9.1f}x  {note}")

        print(f"images in pool: {arguments.images}   (median of {arguments.repeat} runs unless noted)")
        line("rbd ls -l --format json (1 run)", seconds_rbd)
        line("floor: list2 + async omap reads, no Django", seconds_floor)
        line("floor with Berth's client timeouts", seconds_timed_floor)
        line("Berth cold: fresh process, all rows by size", seconds_cold)
        line("Berth warm: all rows by size", seconds_warm, "(target >= 300x)")
        for ordering, seconds in first_pages.items():
            line(f"Berth warm: first 50 rows, ordering={ordering}", seconds, "(target < 20 ms)")
        print(
            f"  Berth cold / floor: {seconds_cold / seconds_floor:.3f}   (target <= 1.15);"
            f"  / floor with timeouts: {seconds_cold / seconds_timed_floor:.3f}"
        )
        print(
            f"  create: Berth image_create {seconds_create * 1000:.1f} ms, bare RBD.create {seconds_bare * 1000:.1f} ms"
            f", ratio {seconds_create / seconds_bare:.2f}   (target <= 2; median of {arguments.creates} each)"
        )
        print(f"  peak RSS: cold process {cold_peak / 1024:.0f} MiB, warm process {peak_mib:.0f} MiB")
    finally:
        pool_delete(actor=user, cluster=cluster, name=pool, confirm_name=pool)
        pool_delete(actor=user, cluster=cluster, name=creates_pool, confirm_name=creates_pool)


if __name__ == "__main__":
    main()
