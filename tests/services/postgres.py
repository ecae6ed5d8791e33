"""A throwaway PostgreSQL 15 cluster (Debian's binaries) on a free loopback port, for tests that
need a database with real row locks and concurrent connections.

PostgreSQL refuses to run as root, so when the tests run as root the data directory belongs to
the `postgres` user and every server binary runs through `runuser -u postgres`. Authentication
is `trust` on 127.0.0.1 only: the cluster lives in a temporary directory and dies with the tests.

Run a command against a fresh server (used by the PostgreSQL test suite)::

    python -m tests.services.postgres -- pytest tests/postgres
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

BINDIR = Path(os.environ.get("BERTH_POSTGRES_BINDIR", "/usr/lib/postgresql/15/bin"))
SUPERUSER = "berth"
DATABASE = "berth"


class PostgresEndpoint(NamedTuple):
    host: str
    port: int
    user: str
    database: str

    @property
    def url(self) -> str:
        return f"postgres://{self.user}@{self.host}:{self.port}/{self.database}"


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    def __init__(self) -> None:
        self._workdir: Path | None = None
        self._as_postgres = os.geteuid() == 0
        self.endpoint: PostgresEndpoint | None = None

    def _run(self, binary: str, *args: str) -> None:
        command = [str(BINDIR / binary), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        completed = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if completed.returncode != 0:
            raise RuntimeError(
                f"{binary} failed ({completed.returncode}):\n{completed.stdout}\n{completed.stderr}"
                f"\n{self._server_log()}"
            )

    def _server_log(self) -> str:
        log = self._workdir / "server.log" if self._workdir else None
        return log.read_text()[-4000:] if log and log.exists() else ""

    def start(self) -> PostgresEndpoint:
        if not (BINDIR / "initdb").exists():
            raise RuntimeError(
                f"PostgreSQL binaries missing in {BINDIR}: apt-get install postgresql-15 (scripts/install does)."
            )
        self._workdir = Path(tempfile.mkdtemp(prefix="berth-postgres-"))
        if self._as_postgres:
            account = pwd.getpwnam("postgres")
            os.chown(self._workdir, account.pw_uid, account.pw_gid)
        data, sockets, port = self._workdir / "data", self._workdir / "sockets", free_loopback_port()
        self._run(
            "initdb",
            "-D",
            str(data),
            "--auth=trust",
            f"--username={SUPERUSER}",
            "--encoding=UTF8",
            "--no-sync",
            "--no-instructions",
        )
        sockets.mkdir()
        if self._as_postgres:
            os.chown(sockets, account.pw_uid, account.pw_gid)
        # fsync off: durability of a throwaway database is worthless and costs the shared disk.
        options = (
            f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
        )
        self._run(
            "pg_ctl", "-D", str(data), "-o", options, "-l", str(self._workdir / "server.log"), "-w", "-t", "30", "start"
        )
        self.endpoint = PostgresEndpoint("127.0.0.1", port, SUPERUSER, DATABASE)
        self._run("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", SUPERUSER, DATABASE)
        return self.endpoint

    def stop(self) -> None:
        if self._workdir is None:
            return
        try:
            if (self._workdir / "data" / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self._workdir / "data"), "-m", "fast", "-w", "-t", "30", "stop")
        finally:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self) -> PostgresEndpoint:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc_info) -> None:
        self.stop()


def main(argv: list[str]) -> int:
    """Start a server, run the command with DATABASE_URL pointing at it, stop the server."""
    command = argv[1:] if argv and argv[0] == "--" else argv
    if not command:
        print("usage: python -m tests.services.postgres -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    with PostgresServer() as endpoint:
        return subprocess.run(command, env={**os.environ, "DATABASE_URL": endpoint.url}).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
