"""Tests that need Django on PostgreSQL. They run in their own pytest process with DATABASE_URL
pointing at a throwaway server; tests/integration/audit/test_postgres_suite.py starts both, so a
plain `pytest` (and scripts/test) runs them too."""

import pytest
from django.db import connection


@pytest.fixture(autouse=True)
def _on_postgresql():
    assert connection.vendor == "postgresql", "tests/postgres must run with DATABASE_URL pointing at PostgreSQL"
