"""A throwaway single-node Ceph cluster for tests, run by ``scripts/ceph-dev-cluster``.

The script does the work (and is what developers run by hand); this wrapper picks a free
monitor port, calls it and turns its ``KEY=VALUE`` output into :class:`CephEndpoints`.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "ceph-dev-cluster"
# The script's exit statuses: `status` when nothing runs, `start` when the monitor's port is taken.
NOT_RUNNING = 3
PORT_TAKEN = 4
PORT_RETRIES = 2
# Creating a cluster takes a few seconds; the script itself gives up waiting after 120 s.
SCRIPT_TIMEOUT = 180.0


class CephDevClusterError(RuntimeError):
    pass


@dataclass(frozen=True)
class CephEndpoints:
    """How to reach the cluster: as client.admin, or as Berth's restricted client in either
    connection style (ceph.conf + keyring, or mon_host + key)."""

    conf: Path
    admin_keyring: Path
    client_name: str
    client_keyring: Path
    client_key_file: Path
    mon_host: str

    @property
    def client_key(self) -> str:
        return self.client_key_file.read_text().strip()

    @classmethod
    def from_script_output(cls, stdout: str) -> CephEndpoints:
        values = dict(line.split("=", 1) for line in stdout.splitlines() if line.startswith("CEPH_") and "=" in line)
        try:
            return cls(
                conf=Path(values["CEPH_CONF"]),
                admin_keyring=Path(values["CEPH_ADMIN_KEYRING"]),
                client_name=values["CEPH_CLIENT"],
                client_keyring=Path(values["CEPH_BERTH_KEYRING"]),
                client_key_file=Path(values["CEPH_BERTH_KEY_FILE"]),
                mon_host=values["CEPH_MON_HOST"],
            )
        except KeyError as missing:
            raise CephDevClusterError(f"ceph-dev-cluster start printed no {missing}; it printed:\n{stdout}") from None


@dataclass(frozen=True)
class ClusterStatus:
    exit_code: int
    report: str

    @property
    def running(self) -> bool:
        return self.exit_code != NOT_RUNNING

    @property
    def healthy(self) -> bool:
        return self.exit_code == 0


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class CephDevCluster:
    """One cluster living in ``workdir``. With ``mon_port=None`` a free port is picked, and
    another one if something grabs it before the monitor binds it."""

    def __init__(self, workdir: Path, mon_port: int | None = None) -> None:
        self.workdir = Path(workdir).resolve()
        self.mon_port = mon_port
        self.endpoints: CephEndpoints | None = None

    @property
    def log_dir(self) -> Path:
        return self.workdir / "log"

    def start(self) -> CephEndpoints:
        pick_ports = self.mon_port is None
        result = self._run("start", port=free_loopback_port() if pick_ports else self.mon_port)
        retries = PORT_RETRIES if pick_ports else 0
        while result.returncode == PORT_TAKEN and retries:
            retries -= 1
            result = self._run("start", port=free_loopback_port())
        self._check(result, "start")
        self.endpoints = CephEndpoints.from_script_output(result.stdout)
        return self.endpoints

    def stop(self) -> None:
        self._check(self._run("stop"), "stop")

    def stop_mon(self) -> None:
        self._check(self._run("stop-mon"), "stop-mon")

    def start_mon(self) -> None:
        """Start the monitor again; returns once the cluster is ready."""
        self._check(self._run("start-mon"), "start-mon")

    @contextmanager
    def mon_stopped(self) -> Iterator[None]:
        """The monitor is down inside the block and back up (and the cluster ready) after it,
        even when the block fails, so later tests still find a working cluster."""
        self.stop_mon()
        try:
            yield
        finally:
            self.start_mon()

    def status(self) -> ClusterStatus:
        result = self._run("status")
        return ClusterStatus(result.returncode, result.stdout)

    def _run(self, action: str, *, port: int | None = None) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ)
        if port is not None:
            env["CEPH_MON_PORT"] = str(port)
        try:
            return subprocess.run(
                [str(SCRIPT), action, str(self.workdir)],
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=SCRIPT_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise CephDevClusterError(
                f"ceph-dev-cluster {action} {self.workdir} did not finish within {SCRIPT_TIMEOUT:.0f}s; "
                f"logs are in {self.log_dir}"
            ) from exc

    def _check(self, result: subprocess.CompletedProcess[str], action: str) -> None:
        if result.returncode != 0:
            raise CephDevClusterError(
                f"ceph-dev-cluster {action} {self.workdir} failed with exit status {result.returncode}:\n"
                f"{result.stderr.strip()}\nlogs are in {self.log_dir}"
            )
