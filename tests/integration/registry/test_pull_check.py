"""The pull check against real docker-registry processes: a manifest HEAD with the credential the
kubelet would choose tells a failing login, a repository the account may not pull, a missing tag
and an unreachable registry apart."""

import hashlib
import json

import pytest
import requests
from django.urls import reverse

from dashboard.audit.models import AuditEvent
from dashboard.tenancy.models import Membership, Tenant
from registry.dockerconfig import Credential
from registry.models import RegistryQuota
from registry.services.secrets import secret_create
from tests.helpers import api_client_as
from tests.services.docker_registry import TOKEN_SERVICE, DockerRegistry, free_loopback_port

pytestmark = pytest.mark.integration

PASSWORD = "Robot-pw:pull 7e41"


def push_image(registry: DockerRegistry, repository: str, tag: str) -> str:
    """Push a one-layer image as `docker push` does; answers the manifest's digest."""
    if registry.token_issuer is not None:
        token = requests.get(
            registry.token_issuer.realm,
            params={"service": TOKEN_SERVICE, "scope": f"repository:{repository}:pull,push"},
            auth=(registry.username, registry.password),
            timeout=5,
        ).json()["token"]
        session_kwargs: dict = {"headers": {"Authorization": f"Bearer {token}"}}
    else:
        session_kwargs = {"auth": (registry.username, registry.password)}
    session = requests.Session()
    session.headers.update(session_kwargs.get("headers", {}))
    session.auth = session_kwargs.get("auth")
    descriptors = []
    for blob, media_type in (
        (json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers"}}).encode(), None),
        (f"layer of {repository}:{tag}".encode(), "application/vnd.docker.image.rootfs.diff.tar.gzip"),
    ):
        digest = f"sha256:{hashlib.sha256(blob).hexdigest()}"
        started = session.post(f"{registry.url}/v2/{repository}/blobs/uploads/", timeout=5)
        assert started.status_code == 202, started.text
        location = started.headers["Location"]
        if location.startswith("/"):
            location = registry.url + location
        done = session.put(location, params={"digest": digest}, data=blob, timeout=5)
        assert done.status_code == 201, done.text
        descriptors.append(
            {
                "mediaType": media_type or "application/vnd.docker.container.image.v1+json",
                "size": len(blob),
                "digest": digest,
            }
        )
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": descriptors[0],
            "layers": descriptors[1:],
        }
    ).encode()
    stored = session.put(
        f"{registry.url}/v2/{repository}/manifests/{tag}",
        data=manifest,
        headers={"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"},
        timeout=5,
    )
    assert stored.status_code == 201, stored.text
    return f"sha256:{hashlib.sha256(manifest).hexdigest()}"


@pytest.fixture
def operator(django_user_model, kube_cluster, namespace):
    tenant = Tenant.objects.create(name="Team P", slug="team-p")
    RegistryQuota.objects.create(tenant=tenant, kube_cluster=kube_cluster, namespaces=[namespace])
    user = django_user_model.objects.create_user("p-operator", password="pw-not-used-0")
    Membership.objects.create(user=user, tenant=tenant, role="operator")
    return user


def make_secret(actor, cluster, namespace, name, server, username, password):
    [result] = secret_create(
        actor=actor,
        cluster=cluster,
        namespaces=[namespace],
        name=name,
        credentials=[Credential(server=server, username=username, password=password)],
    )
    assert result.ok, result.message


def pull_check(user, namespace, image):
    response = api_client_as(user).get(reverse("api:registry-pull-check", args=[namespace]), {"image": image})
    assert response.status_code == 200, response.json()
    return response.json()


def test_token_auth_tells_no_permission_from_a_missing_tag(admin_user, kube_cluster, namespace, operator):
    with DockerRegistry(username="robot", password=PASSWORD, auth="token") as registry:
        digest = push_image(registry, "team/app", "1.0")
        push_image(registry, "team/secret", "1.0")
        assert registry.token_issuer is not None
        registry.token_issuer.denied_repositories.add("team/secret")
        server = registry.url.removeprefix("http://")
        make_secret(admin_user, kube_cluster, namespace, "robot-pull", server, "robot", PASSWORD)

        pulls = pull_check(operator, namespace, f"{server}/team/app:1.0")
        denied = pull_check(operator, namespace, f"{server}/team/secret:1.0")
        missing = pull_check(operator, namespace, f"{server}/team/app:2.0")
        by_digest = pull_check(operator, namespace, f"{server}/team/app@{digest}")

    assert pulls["outcome"] == "ok", pulls["message"]
    assert pulls["attempts"] == [
        {
            "secret": "robot-pull",
            "server": server,
            "username": "robot",
            "outcome": "ok",
            "message": f"{server} lets robot pull team/app:1.0",
        }
    ]
    assert denied["outcome"] == "no_pull_permission", denied["message"]
    assert f"robot logs in to {server}, but may not pull team/secret" in denied["message"]
    assert missing["outcome"] == "manifest_missing", missing["message"]
    assert "no manifest 2.0 in team/app" in missing["message"]
    assert by_digest["outcome"] == "ok", by_digest["message"]
    assert PASSWORD not in json.dumps([pulls, denied, missing])
    events = AuditEvent.objects.filter(action="registry.pull.check").order_by("id")
    assert [event.parameters.get("outcome") for event in events] == [
        "ok",
        "no_pull_permission",
        "manifest_missing",
        "ok",
    ]


def test_htpasswd_tells_a_failing_login_and_an_unreachable_registry(admin_user, kube_cluster, namespace, operator):
    with DockerRegistry(username="robot", password=PASSWORD, auth="htpasswd") as registry:
        push_image(registry, "team/app", "1.0")
        server = registry.url.removeprefix("http://")
        make_secret(admin_user, kube_cluster, namespace, "robot-pull", server, "robot", PASSWORD)
        assert pull_check(operator, namespace, f"{server}/team/app:1.0")["outcome"] == "ok"

        registry.set_password("Changed-by-the-registry-admin 3b77")
        failing = pull_check(operator, namespace, f"{server}/team/app:1.0")

    assert failing["outcome"] == "login_failed", failing["message"]
    assert "wrong username or password" in failing["message"]
    gone = f"127.0.0.1:{free_loopback_port()}"
    make_secret(admin_user, kube_cluster, namespace, "gone-pull", gone, "robot", PASSWORD)
    unreachable = pull_check(operator, namespace, f"{gone}/team/app:1.0")
    assert unreachable["outcome"] == "unreachable", unreachable["message"]
    assert "connection refused" in unreachable["message"]


def test_no_matching_secret_pulls_anonymously_and_names_node_credentials(
    kube_cluster, namespace, operator, htpasswd_registry
):
    server = htpasswd_registry.url.removeprefix("http://")

    check = pull_check(operator, namespace, f"{server}/team/app:1.0")

    assert check["outcome"] == "credentials_needed", check["message"]
    assert check["attempts"][0]["secret"] is None
    assert any("node credentials" in note and "Berth cannot see them" in note for note in check["notes"])
    assert any("node credentials" in finding for finding in check["diagnosis"]["findings"])


def test_viewers_may_not_make_berth_connect(django_user_model, kube_cluster, namespace, operator, htpasswd_registry):
    viewer = django_user_model.objects.create_user("p-viewer", password="pw-not-used-0")
    Membership.objects.create(user=viewer, tenant=Tenant.objects.get(slug="team-p"), role="viewer")
    response = api_client_as(viewer).get(
        reverse("api:registry-pull-check", args=[namespace]), {"image": f"{htpasswd_registry.url[7:]}/a:1"}
    )
    assert response.status_code == 403
