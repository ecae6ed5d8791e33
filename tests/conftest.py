import os

# Tests run on the embedded defaults; the production-settings checks set their own environment.
os.environ.setdefault("BERTH_DEBUG", "true")
# Playwright's sync API runs an event loop in the test thread, and browser tests still use the ORM
# for their fixtures; Django refuses that unless told the loop is not serving async code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytest_plugins = [
    "tests.fixtures.ceph",
    "tests.fixtures.berth",
    "tests.fixtures.browser",
]
