"""Settings come from the environment; production settings pass Django's deployment checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[3]
PRODUCTION = {
    "BERTH_DEBUG": "false",
    "BERTH_SECRET_KEY": "x7Qz0-a-long-random-production-key-that-is-not-real-9dK2mP4vL8nR3",
    "BERTH_ALLOWED_HOSTS": "berth.example.com",
    "BERTH_CSRF_TRUSTED_ORIGINS": "https://berth.example.com",
    "BERTH_HTTPS": "true",
    "BERTH_HSTS_PRELOAD": "true",
    "BERTH_AUDIT_KEY": "an-audit-key-for-the-deploy-check-that-is-not-real-0123456789",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    # Only the test's own settings: nothing of this test run's environment (debug, the async
    # relaxation for Playwright, the test settings module) may leak into the production check.
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BERTH_", "DJANGO_")) and k != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_secret_key_is_required_outside_debug():
    env = {k: v for k, v in PRODUCTION.items() if k != "BERTH_SECRET_KEY"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "BERTH_SECRET_KEY (or BERTH_SECRET_KEY_FILE) is required" in result.stderr


def test_audit_key_is_required_outside_debug(tmp_path):
    env = {k: v for k, v in PRODUCTION.items() if k != "BERTH_AUDIT_KEY"}
    result = manage("check", env={**env, "BERTH_DATA_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "audit.E001" in result.stderr and "BERTH_AUDIT_KEY_FILE" in result.stderr
    assert not (tmp_path / "audit-key").exists(), "production must not make up a key of its own"


def test_a_malformed_boolean_names_the_variable():
    result = manage("check", env={**PRODUCTION, "BERTH_HTTPS": "maybe"})
    assert result.returncode != 0
    assert "BERTH_HTTPS must be one of" in result.stderr


def test_database_url_selects_postgresql():
    result = manage(
        "shell",
        "--verbosity",
        "0",
        "-c",
        "from django.db import connection; print(connection.vendor, connection.settings_dict['NAME'])",
        env={**PRODUCTION, "DATABASE_URL": "postgres://berth:pw@127.0.0.1:5432/berthdb"},
    )
    assert result.stdout.split() == ["postgresql", "berthdb"], result.stderr
