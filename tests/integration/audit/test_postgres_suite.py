"""Runs tests/postgres against a real PostgreSQL server.

Django reads DATABASE_URL once, when settings load, so tests that need Django on PostgreSQL
cannot share this (SQLite) process. This test starts the server and runs them in a second pytest
process pointed at it; a failure there fails here with its output.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.long]

ROOT = Path(__file__).resolve().parents[3]


def test_the_postgresql_suite_passes(postgres_server):
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/postgres", "-q", "--timeout=240"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": postgres_server.url, "BERTH_DEBUG": "true"},
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert completed.returncode == 0, completed.stdout[-6000:] + completed.stderr[-3000:]
    assert " passed" in completed.stdout and " failed" not in completed.stdout
