"""A tenant owning only a namespace of a pool is sent to that namespace, not the pool's default
namespace (which would answer 404), from the pool list and the pool page."""

import re

import pytest
from django.urls import reverse

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def image_list_links(html: str, pool: str) -> list[str]:
    path = re.escape(reverse("storage:image-list", args=[pool]))
    return [link.replace("&amp;", "&") for link in re.findall(rf'href="({path}[^"]*)"', html)]


def test_pool_links_open_the_tenants_namespace(teams, client):
    client.force_login(teams.members["viewer"])
    listed = client.get(reverse("storage:pool-list")).content.decode()
    [link] = image_list_links(listed, teams.pool)
    assert link.endswith("?namespace=team-a")
    assert client.get(link).status_code == 200

    detail = client.get(reverse("storage:pool-detail", args=[teams.pool])).content.decode()
    assert set(image_list_links(detail, teams.pool)) == {link}
    images = client.get(link).content.decode()
    assert "default namespace" not in images


def test_platform_admins_open_the_default_namespace(teams, admin_client):
    listed = admin_client.get(reverse("storage:pool-list")).content.decode()
    assert reverse("storage:image-list", args=[teams.pool]) in image_list_links(listed, teams.pool)
    detail = admin_client.get(reverse("storage:pool-detail", args=[teams.pool])).content.decode()
    assert "(default namespace)" in detail
