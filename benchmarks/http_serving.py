#!/usr/bin/env python
"""Requests per second of Berth's image list page served as command 1 serves it (gunicorn, two
workers) against Django's development server, side by side in one run on the same machine.

Starts a throwaway dev cluster (scripts/ceph-dev-cluster, stopped afterwards) with a pool of 500
images (--images), a SQLite database with a platform admin, then serves Berth twice in turn — gunicorn
with --workers 2, and `manage.py runserver` — and drives each with `wrk` (Debian's package: `apt-get
install wrk`) for --seconds at --connections concurrent clients, signed in with the admin's session.
Prints requests/s, p50 and p99 latency of each, and their ratio.

Usage: .venv/bin/python benchmarks/http_serving.py [--images N] [--seconds S] [--connections C]
"""

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def manage(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout


def start_cluster(scratch: Path) -> tuple[dict[str, str], list[str]]:
    """A throwaway dev cluster with the pool `bench`: its CEPH_* settings and the admin's CLI arguments."""
    started = subprocess.run(
        [str(ROOT / "scripts" / "ceph-dev-cluster"), "start", str(scratch / "ceph")],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "CEPH_MON_PORT": str(free_port())},
    ).stdout
    ceph = dict(line.split("=", 1) for line in started.splitlines() if line.startswith("CEPH_"))
    admin = ["--conf", ceph["CEPH_CONF"], "--keyring", ceph["CEPH_ADMIN_KEYRING"]]
    subprocess.run(["ceph", *admin, "osd", "pool", "create", "bench", "32"], check=True, capture_output=True)
    subprocess.run(["rbd", *admin, "pool", "init", "bench"], check=True, capture_output=True)
    return ceph, admin


def berth_database(scratch: Path, ceph: dict[str, str]) -> tuple[dict[str, str], str]:
    """A production-settings SQLite database in `scratch` that knows the cluster, and a platform admin's
    session key: the environment to serve Berth with, and the cookie to send."""
    env = {
        **os.environ,
        "BERTH_DEBUG": "false",
        "BERTH_SECRET_KEY": "benchmark-secret-key-not-for-production-0123456789",
        "BERTH_AUDIT_KEY": "benchmark-audit-key-not-for-production-0123456789",
        "BERTH_DATA_DIR": str(scratch),
        "BERTH_LOG_LEVEL": "WARNING",
    }
    manage(env, "migrate", "--noinput")
    manage(env, "createcachetable")
    manage(env, "collectstatic", "--noinput", "-v", "0")
    manage(
        env, "register_ceph_cluster", "local", "--default", "--client", ceph["CEPH_CLIENT"],
        "--conf", ceph["CEPH_CONF"], "--keyring", ceph["CEPH_BERTH_KEYRING"],
    )  # fmt: skip
    session = (
        manage(
            env,
            "shell",
            "-c",
            "from django.contrib.auth import get_user_model;"
            "from django.contrib.sessions.backends.db import SessionStore;"
            "user = get_user_model().objects.create_superuser('bench', 'b@example.com', 'x');"
            "s = SessionStore(); s['_auth_user_id'] = str(user.pk);"
            "s['_auth_user_backend'] = 'dashboard.tenancy.backends.LocalPasswordBackend';"
            "s['_auth_user_hash'] = user.get_session_auth_hash(); s.create(); print(s.session_key)",
        )
        .strip()
        .splitlines()[-1]
    )  # Django's shell may print a line about its automatic imports first
    return env, session


def prepare(scratch: Path, images: int) -> tuple[dict[str, str], str]:
    """A cluster with a pool of `images` images, a database that knows it, and an admin's session key."""
    ceph, admin = start_cluster(scratch)
    for number in range(images):
        create = ["create", "--size", f"{64 + number % 512}M", f"bench/image-{number:05d}"]
        subprocess.run(["rbd", *admin, *create], check=True, capture_output=True)
    return berth_database(scratch, ceph)


def background_processes(env: dict[str, str]) -> list[subprocess.Popen]:
    """The task worker and the scheduler of periodic jobs, which command 1 runs next to gunicorn."""
    return [
        subprocess.Popen(
            [sys.executable, "manage.py", command],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for command in ("berth_worker", "berth_scheduler")
    ]


def serve(kind: str, env: dict[str, str], port: int) -> subprocess.Popen:
    if kind == "gunicorn":
        command = [str(BIN / "gunicorn"), "dashboard.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"]
    else:
        command = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
        # The development server serves static files only in debug; the page's HTML is what is measured.
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2)
            return process
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"{kind} did not start") from None
            time.sleep(0.2)


def wrk(url: str, session: str, connections: int, seconds: int, pause_ms: float = 0) -> dict[str, float]:
    """Requests/s, p50 and p99 (ms) of `url` under `connections` connections for `seconds`, signed in by `session`.
    `pause_ms`: each connection waits that long after an answer before its next request (a client's think time)."""
    command = ["wrk", "--latency", "-t2", f"-c{connections}", f"-d{seconds}s", "-H", f"Cookie: sessionid={session}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        if pause_ms > 0:
            script.write(f"function delay()\n  return {pause_ms:.0f}\nend\n")
            script.flush()
            command += ["-s", script.name]
        output = subprocess.run([*command, url], check=True, capture_output=True, text=True).stdout
    if "Non-2xx" in output:
        raise SystemExit(f"{url} did not answer 200:\n{output}")

    def milliseconds(label: str) -> float:
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", output).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": milliseconds("50%"),
        "p99": milliseconds("99%"),
    }


def measure(port: int, session: str, arguments: argparse.Namespace) -> dict[str, float]:
    page = f"http://127.0.0.1:{port}/storage/pools/bench/images/"
    return wrk(page, session, arguments.connections, arguments.seconds)


def main() -> None:
    arguments = parse_arguments()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    with tempfile.TemporaryDirectory(prefix="berth-serving-") as scratch_name:
        scratch = Path(scratch_name)
        try:
            env, session = prepare(scratch, arguments.images)
            results = {}
            for kind in ("gunicorn", "runserver"):
                port = free_port()
                server = serve(kind, env, port)
                try:
                    measure(port, session, argparse.Namespace(connections=2, seconds=2))  # warm up
                    results[kind] = measure(port, session, arguments)
                finally:
                    server.send_signal(signal.SIGTERM)
                    server.wait(20)
        finally:
            subprocess.run([str(ROOT / "scripts" / "ceph-dev-cluster"), "stop", str(scratch / "ceph")], check=False)
    print(f"image list page, {arguments.images} images, {arguments.connections} clients, {arguments.seconds} s each")
    for kind, figures in results.items():
        print(f"  {kind:<10} {figures['rps']:8.1f} req/s   p50 {figures['p50']:7.1f} ms   p99 {figures['p99']:7.1f} ms")
    print(
        f"  gunicorn / runserver: {results['gunicorn']['rps'] / results['runserver']['rps']:.2f}x requests per second"
    )


if __name__ == "__main__":
    main()
