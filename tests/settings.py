"""Settings for the test run: the embedded defaults in debug mode (no secret key needed).

The environment is set here rather than in conftest.py because pytest-django configures Django
before any conftest is imported."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("BERTH_DEBUG", "true")
# A fixed audit key, so subprocesses (migration tests, the PostgreSQL suite) hash with the same one.
os.environ.setdefault("BERTH_AUDIT_KEY", "test-audit-key-not-secret-0123456789abcdef")
# Playwright's sync API runs an event loop in the test thread, and browser tests still use the ORM
# for their fixtures; Django refuses that unless told the loop is not serving async code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from dashboard.settings import *  # noqa: F403
from dashboard.settings import DATABASES

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not Django's shared-cache in-memory database: there a background task's write fails
    # at once with "table is locked" instead of waiting for the request's transaction.
    # One per run, so two runs on one machine never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(Path(tempfile.mkdtemp(prefix="berth-test-")) / "test.sqlite3")}

# Tests sign in many users; the production hasher's deliberate slowness would dominate the run.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The tests' registries and token services listen on 127.0.0.1 (ports chosen at run time). The attack
# tests in tests/security set the production default (nothing private allowed) themselves.
BERTH_REGISTRY_LOGIN_ALLOWED_HOSTS = ["127.0.0.1"]
# Throttle counts live in the process's cache across tests, and test users' ids repeat.
BERTH_REGISTRY_LOGIN_RATE = "10000/min"
