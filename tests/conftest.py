import dataclasses
import os

import pytest
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
    "tests.fixtures.database",
]

# tests/postgres need Django itself on PostgreSQL, which settings fix at start-up; in any other run
# tests/integration/audit/test_postgres_suite.py starts a server and runs them in a second process.
if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
    collect_ignore = ["postgres"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Schemathesis makes one test per API operation, but under pytest 9 they all get the function's
    # node id: the operation goes into the id's parameters, so that --durations names the slow one and
    # pytest-xdist, which keys tests by id, does not take them for one test and run only the first.
    for item in items:
        if (label := getattr(item, "operation_label", None)) and item.id.params is None:
            item._id = dataclasses.replace(item.id, params=label)
    # pytest-xdist hands out whole files in collection order (scripts/test turns off its own order, most tests
    # first, which handed the two-test accessibility sweep out among the last); a long one handed out last keeps
    # one worker busy for a minute after the other has run out of work. Files with a `long` test go first.
    long_files = {item.path for item in items if item.get_closest_marker("long")}
    items.sort(key=lambda item: item.path not in long_files)
