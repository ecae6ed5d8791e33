"""The wizard's namespace checkboxes are checkboxes, not empty full-width text-box bars."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_the_namespace_choices_are_checkbox_sized(logged_in_page: Page, live_server, kube_cluster, namespace):
    page = logged_in_page
    page.goto(live_server.url + reverse("registry:wizard-start"))

    box = page.get_by_label(namespace)
    expect(box).to_be_visible()
    size = box.bounding_box()
    assert size is not None and size["width"] < 40 and size["height"] < 40, size
    box.check()
    expect(box).to_be_checked()
