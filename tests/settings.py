"""Settings for the test run: the embedded defaults in debug mode (no secret key needed).

The environment is set here rather than in conftest.py because pytest-django configures Django
before any conftest is imported."""

import os

os.environ.setdefault("BERTH_DEBUG", "true")
# Playwright's sync API runs an event loop in the test thread, and browser tests still use the ORM
# for their fixtures; Django refuses that unless told the loop is not serving async code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from dashboard.settings import *  # noqa: E402,F401,F403
