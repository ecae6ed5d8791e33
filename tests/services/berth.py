"""Berth itself as separate processes, served as command 1 serves it: gunicorn web processes and task
workers, all on one database — for the tests that need more than the test process (several web
processes behind no sticky sessions, workers that get killed)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def berth_environment(database_url: str, **extra: str) -> dict[str, str]:
    # One secret key for every process, as a deployment has: a session signed by one must open in another.
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "BERTH_DEBUG": "true",
        "BERTH_SECRET_KEY": "test-secret-key-shared-by-every-process",
        **extra,
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def berth_web(database_url: str, *, log: Path, workers: int = 1, **extra: str) -> Iterator[str]:
    """A gunicorn serving Berth on a free loopback port; yields its base URL."""
    port = _free_port()
    with open(log, "ab") as output:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "dashboard.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
            cwd=ROOT,
            env=berth_environment(database_url, **extra),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/login/", timeout=2)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start; see {log}") from None
                time.sleep(0.2)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


def start_worker(database_url: str, *, name: str, log: Path, **extra: str) -> subprocess.Popen:
    """A `manage.py berth_worker` process; the caller stops (or kills) it."""
    with open(log, "ab") as output:
        return subprocess.Popen(
            [sys.executable, "manage.py", "berth_worker", "--interval", "0.1", "--worker-id", name],
            cwd=ROOT,
            env=berth_environment(database_url, **extra),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
