"""The image table's rows link to each image exactly as `storage_url` (reverse()) would, though the row tag
reverses once per page and quotes each name into place."""

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.utils.html import escape

from storage.services.types import ImageInfo
from storage.templatetags.storage_ui import storage_url

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("name", ["vol-00001", "a b", "ü@x:y", "q?x#y", "%00z", "a.b", "100%"])
def test_row_links_match_reverse(name):
    request = RequestFactory().get("/", {"cluster": "second"})
    rows = [
        ImageInfo(
            pool="p%1",
            namespace="ns",
            name=row_name,
            id="1",
            size=2**30,
            used=None,
            features=["layering"],
            object_size=2**22,
            parent=None,
            snapshot_count=0,
            created=None,
        )
        for row_name in ("first", name)
    ]
    html = Template("{% load storage_ui %}{% for item in rows %}{% image_row item %}{% endfor %}").render(
        Context({"rows": rows, "request": request})
    )
    for row_name in ("first", name):
        assert f'href="{escape(storage_url(request, "image-detail", "p%1", row_name, namespace="ns"))}"' in html


def test_every_value_of_a_row_is_escaped():
    hostile = '<img src=x onerror="alert(1)">&'
    item = ImageInfo(
        pool="rbd",
        namespace="",
        name=f"n{hostile}",
        id="1",
        size=2**30,
        used=2**20,
        features=[f"f{hostile}"],
        object_size=2**22,
        parent=f"rbd/p{hostile}@s",
        snapshot_count=3,
        created=None,
    )
    html = Template("{% load storage_ui %}{% image_row item %}").render(
        Context({"item": item, "request": RequestFactory().get("/")})
    )
    assert "<img" not in html and 'onerror="' not in html
    for value in (item.name, item.features[0], item.parent):
        assert escape(value) in html
