"""An installation from before platform roles and hashed API tokens migrates without anyone losing
access: active staff users become platform admins, and the keys DRF's authtoken app made keep working,
now stored only as digests, while the table that held them in clear is gone.

Run in subprocesses against a SQLite file of their own: the tokens are made by DRF's own code, with
authtoken installed as it was then."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.migrations.test_core_apps_move import migrations_then

pytestmark = [pytest.mark.integration, pytest.mark.long]

ROOT = Path(__file__).resolve().parents[3]
THEN = "tests.integration.migrations.drf_token_settings"
BEFORE_ROLES = ["tenancy", "0001_initial"]

POPULATE = r"""
import json
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token

people = {
    "staff": dict(is_staff=True), "retired-staff": dict(is_staff=True, is_active=False),
    "root": dict(is_staff=True, is_superuser=True), "member": {},
}
users = {name: User.objects.create(username=name, **flags) for name, flags in people.items()}
print(json.dumps({name: Token.objects.create(user=users[name]).key for name in ("staff", "member")}))
"""

CHECK = r"""
import json
from django.contrib.auth.models import User
from django.db import connection
from dashboard.tenancy.models import ApiToken, PlatformRole
from dashboard.tenancy.services import is_platform_admin

print(json.dumps({
    "roles": sorted(PlatformRole.objects.values_list("user__username", "role")),
    "platform_admins": sorted(user.username for user in User.objects.all() if is_platform_admin(user)),
    "tokens": sorted(ApiToken.objects.values_list("user__username", "prefix")),
    "drf_table": "authtoken_token" in connection.introspection.table_names(),
}))
"""

# Each migrated token authenticates its owner.
AUTHENTICATE = r"""
import json
from dashboard.tenancy.tokens import api_token_authenticate
print(json.dumps({{name: api_token_authenticate(key=key)[0].username for name, key in {keys!r}.items()}}))
"""


def _manage(database: Path, *args: str, settings: str = "dashboard.settings") -> str:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "BERTH_DEBUG": "true",
        "DJANGO_SETTINGS_MODULE": settings,
    }
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""


def test_staff_keep_their_access_and_drf_tokens_keep_working_without_their_keys_in_the_database(tmp_path):
    database = tmp_path / "before-roles.sqlite3"
    populate = migrations_then(["auth"], ["authtoken"], BEFORE_ROLES, script=POPULATE)
    keys = json.loads(_manage(database, "shell", "-c", populate, settings=THEN))

    _manage(database, "migrate")
    facts = json.loads(_manage(database, "shell", "-c", CHECK))
    assert facts["roles"] == [["root", "platform_admin"], ["staff", "platform_admin"]]
    assert facts["platform_admins"] == ["root", "staff"]
    assert facts["tokens"] == [["member", keys["member"][:6]], ["staff", keys["staff"][:6]]]
    assert facts["drf_table"] is False
    assert not any(key in json.dumps(facts) for key in keys.values())

    assert json.loads(_manage(database, "shell", "-c", AUTHENTICATE.format(keys=keys))) == {name: name for name in keys}
