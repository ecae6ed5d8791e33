import pytest

from tests.browser.accessibility.sweep import sweep_every_main_page

pytestmark = [pytest.mark.browser, pytest.mark.long]


def test_every_main_page_passes_axe_and_fits_the_screen(browser, live_server, site, admin_user, htpasswd_registry):
    sweep_every_main_page(browser, live_server.url, site, admin_user.username, "platform-admin", htpasswd_registry)
