#!/usr/bin/env python
"""Requests per second and latency of Berth's image list over HTTP, served as scripts/install-and-run
serves it (gunicorn, two workers), for a pool of --images images (default 10,000).

Starts a throwaway dev cluster (scripts/ceph-dev-cluster, stopped afterwards), fills a pool with images
of random sizes (bare RBD.create, as benchmarks/list_images.py does), prepares a SQLite database with a
platform admin and a session, serves Berth with gunicorn and drives it with `wrk` (Debian's package:
`apt-get install wrk`) at --connections concurrent connections for --seconds, signed in by the session
cookie, for:
  the API's first page   GET /api/v1/storage/pools/bench/images/?page_size=50   (sorted by name)
  the API by size        the same, ordering=-size
  the HTML page          GET /storage/pools/bench/images/   (the first 50 rows, with measured use)
Each is warmed up first (one request, then a short wrk run), so the image list cache is filled: cold
listing is what list_images.py measures. The task worker and the scheduler run as command 1 runs them
(the periodic re-read of the image list happens there). Prints, for each:
  saturated: requests/s, p50 and p99 with every connection sending its next request as soon as it has an
    answer (the most the server gives; the latency is then mostly queueing: connections / throughput);
  paced: the same 32 connections each pausing between an answer and its next request so that together they
    ask for the target rate (300 req/s of the API, 150 of the page): the latency at the load the targets name;
  unqueued: two connections, one a worker, so no request waits behind another: the latency of the request;
and the peak memory (VmHWM) of each gunicorn worker.

Usage: .venv/bin/python benchmarks/http_load.py [--images N] [--seconds S] [--connections C]
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from http_serving import background_processes, berth_database, free_port, serve, start_cluster, wrk

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"api": 300.0, "api-by-size": 300.0, "html": 150.0}
P99_TARGET_MS = 100.0


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=10000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    return parser.parse_args()


def prepare(scratch: Path, images: int) -> tuple[dict[str, str], str]:
    """A cluster with the pool `bench` of `images` images, a database that knows it, and an admin's session key."""
    ceph, admin = start_cluster(scratch)
    print(f"creating {images} images…", file=sys.stderr)
    populate = [sys.executable, str(ROOT / "benchmarks" / "list_images.py"), "--worker", "populate"]
    subprocess.run([*populate, *admin, "--pool", "bench", "--images", str(images)], check=True)
    return berth_database(scratch, ceph)


def peak_memory_mib(master: int) -> list[float]:
    """VmHWM (peak resident memory) of each of gunicorn's worker processes."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    peaks = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        peaks.append(int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024)
    return peaks


def main() -> None:
    arguments = parse_arguments()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    with tempfile.TemporaryDirectory(prefix="berth-http-load-") as scratch_name:
        scratch = Path(scratch_name)
        try:
            env, session = prepare(scratch, arguments.images)
            port = free_port()
            background = background_processes(env)
            server = serve("gunicorn", env, port)
            base = f"http://127.0.0.1:{port}"
            urls = {
                "api": f"{base}/api/v1/storage/pools/bench/images/?page_size=50",
                "api-by-size": f"{base}/api/v1/storage/pools/bench/images/?page_size=50&ordering=-size",
                "html": f"{base}/storage/pools/bench/images/",
            }
            results, paced, unqueued = {}, {}, {}
            try:
                for kind, url in urls.items():
                    wrk(url, session, 2, 3)  # both workers read the pool once and measure the page's use
                    results[kind] = wrk(url, session, arguments.connections, arguments.seconds)
                    # One connection a worker: what a request costs without waiting behind others.
                    unqueued[kind] = wrk(url, session, 2, max(5, arguments.seconds // 2))
                    # A connection asks once every connections / target seconds: its pause is that less the
                    # time an answer takes under this load, which a short run at a first guess measures.
                    cycle_ms = arguments.connections / TARGETS[kind] * 1000
                    pause_ms = max(0.0, cycle_ms - unqueued[kind]["p50"])
                    trial = wrk(url, session, arguments.connections, 5, pause_ms=pause_ms)
                    answer_ms = arguments.connections / trial["rps"] * 1000 - pause_ms
                    pause_ms = max(0.0, cycle_ms - answer_ms)
                    paced[kind] = wrk(url, session, arguments.connections, arguments.seconds, pause_ms=pause_ms)
                peaks = peak_memory_mib(server.pid)
            finally:
                for process in (server, *background):
                    process.send_signal(signal.SIGTERM)
                for process in (server, *background):
                    process.wait(20)
        finally:
            subprocess.run([str(ROOT / "scripts" / "ceph-dev-cluster"), "stop", str(scratch / "ceph")], check=False)
    print(
        f"image list over HTTP: {arguments.images} images, gunicorn --workers 2, {arguments.connections} connections, "
        f"{arguments.seconds} s each, {os.cpu_count()} CPUs"
    )
    print(f"  saturated ({arguments.connections} connections, no pause):")
    for kind, figures in results.items():
        verdict = "ok" if figures["rps"] >= TARGETS[kind] else "MISSED"
        print(f"  {kind:<12} {line(figures)}   (target >= {TARGETS[kind]:.0f} req/s: {verdict})")
    print(
        f"  (with no pause, mean latency is connections / throughput, Little's law:"
        f" {arguments.connections / TARGETS['html'] * 1000:.0f} ms at {TARGETS['html']:.0f} req/s,"
        f" {arguments.connections / TARGETS['api'] * 1000:.0f} ms at {TARGETS['api']:.0f})"
    )
    print(f"  paced ({arguments.connections} connections asking together for the target rate):")
    for kind, figures in paced.items():
        verdict = "ok" if figures["rps"] >= 0.95 * TARGETS[kind] and figures["p99"] < P99_TARGET_MS else "MISSED"
        print(
            f"  {kind:<12} {line(figures)}   (asked for {TARGETS[kind]:.0f} req/s, p99 < {P99_TARGET_MS:.0f} ms:"
            f" {verdict})"
        )
    print("  unqueued (2 connections, one a worker):")
    for kind, figures in unqueued.items():
        print(f"  {kind:<12} {line(figures)}")
    print("  peak RSS of the gunicorn workers: " + ", ".join(f"{peak:.0f} MiB" for peak in peaks))


def line(figures: dict[str, float]) -> str:
    return f"{figures['rps']:8.1f} req/s   p50 {figures['p50']:7.1f} ms   p99 {figures['p99']:7.1f} ms"


if __name__ == "__main__":
    main()
