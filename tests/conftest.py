import os

from hypothesis import HealthCheck, settings

# The environment for the test run is set in tests/settings.py (pytest-django loads it first).

# Property tests check what is true, not how fast: on a loaded two-core machine one example can take longer
# than Hypothesis' default 200 ms deadline, which it reports as a flaky failure.
settings.register_profile("berth", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("berth")

pytest_plugins = [
    "tests.fixtures.ceph",
    "tests.fixtures.docker_registry",
    "tests.fixtures.kube",
    "tests.fixtures.berth",
    "tests.fixtures.storage",
    "tests.fixtures.registry",
    "tests.fixtures.browser",
    "tests.fixtures.postgres",
    "tests.fixtures.tasks",
    "tests.fixtures.oidc",
]

# tests/postgres need Django itself on PostgreSQL, which settings fix at start-up; in any other run
# tests/integration/audit/test_postgres_suite.py starts a server and runs them in a second process.
if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
    collect_ignore = ["postgres"]
