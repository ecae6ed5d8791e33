import subprocess

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_an_admin_logs_in_and_sees_live_cluster_health(ceph_cluster, ceph_dev_cluster, logged_in_page):
    health = subprocess.run(
        ["ceph", "--conf", str(ceph_dev_cluster.conf), "--name", "client.admin",
         "--keyring", str(ceph_dev_cluster.admin_keyring), "health"],
        check=True, capture_output=True, text=True, timeout=30).stdout.strip()
    expect(logged_in_page.get_by_test_id("health-text")).to_have_text(health)
    expect(logged_in_page.get_by_test_id("pool-count")).to_be_visible()
