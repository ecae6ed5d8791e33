import pytest

from tests.browser.accessibility.sweep import VIEWER, sweep_every_main_page

pytestmark = [pytest.mark.browser, pytest.mark.long]


def test_every_main_page_passes_axe_and_fits_the_screen(browser, live_server, site, htpasswd_registry):
    sweep_every_main_page(browser, live_server.url, site, VIEWER, "tenant-viewer", htpasswd_registry)
