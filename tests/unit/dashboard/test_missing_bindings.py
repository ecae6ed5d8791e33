"""Without Debian's Ceph bindings Berth still starts and says what to install."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[3]

# `sys.modules[name] = None` makes `import name` raise ImportError, as on a machine without the packages.
PROBE = """
import sys
sys.modules["rados"] = None
sys.modules["rbd"] = None
import django
django.setup()
from dashboard.core.errors import NotConfigured
from storage.services.bindings import require_bindings
try:
    require_bindings()
except NotConfigured as error:
    print(error.code)
    print(error.message)
"""


def test_missing_bindings_name_the_debian_packages():
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "tests.settings"},
    )
    assert result.returncode == 0, result.stderr
    code, message = result.stdout.strip().splitlines()[-2:]
    assert code == "ceph_bindings_missing"
    assert "python3-rados" in message and "python3-rbd" in message
