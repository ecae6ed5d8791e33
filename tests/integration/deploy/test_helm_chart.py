"""The Helm chart (deploy/helm/berth), rendered by a real helm and applied to the test kube-apiserver:
server-side dry-run with strict field validation first, so a schema error fails here, then for real.
Then Berth, registered as running in that cluster, uses the chart's ServiceAccount and ClusterRole."""

import base64
import io
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient

from dashboard.core.errors import NotConfigured
from registry.dockerconfig import Credential
from registry.models import KubeCluster
from registry.services import kube as kube_services
from registry.services.doctor import pull_doctor
from registry.services.secrets import namespace_list, secret_create, secret_delete, secret_list, secret_rotate
from tests.helpers import linked_secrets, stored_config, temporary_namespace

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
CHART = ROOT / "deploy" / "helm" / "berth"
FIELD_MANAGER = "berth-chart-test"
VALUES = {
    "image": {"repository": "registry.example.com/berth", "tag": "0.1.0-test"},
    "host": "berth.example.com",
    "ingress": {"enabled": True, "className": "nginx", "tlsSecretName": "berth-tls"},
    "metrics": {"tokenSecret": {"name": "berth-metrics"}, "allowedNetworks": "10.244.0.0/16"},
    "ceph": {"conf": "[global]\nfsid = 8d2b0e0a-3f6c-4c48-9a51-7a2f3c1b9e11\nmon host = v2:10.0.0.1:3300\n"},
    "extraVolumes": [{"name": "prod-east", "secret": {"secretName": "prod-east-kubeconfig"}}],
    "extraVolumeMounts": [{"name": "prod-east", "mountPath": "/etc/berth/clusters/prod-east", "readOnly": True}],
}


@pytest.fixture(scope="session")
def helm() -> str:
    """The helm binary, built from Go modules like kube-apiserver (scripts/test builds it before pytest)."""
    built = subprocess.run(
        [str(ROOT / "tests" / "k8s" / "build-helm.sh")], capture_output=True, text=True, timeout=3600
    )
    assert built.returncode == 0, built.stderr
    return built.stdout.strip().splitlines()[-1]


def render(helm: str, namespace: str, tmp_path: Path, values: dict = VALUES) -> list[dict]:
    values_file = tmp_path / "values.yaml"
    values_file.write_text(yaml.safe_dump(values))
    rendered = subprocess.run(
        [helm, "template", "berth", str(CHART), "--namespace", namespace, "--values", str(values_file)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rendered.returncode == 0, rendered.stderr
    return [document for document in yaml.safe_load_all(rendered.stdout) if document]


def server_side_apply(api: client.ApiClient, resources, body: dict, namespace: str, *, dry_run: bool) -> dict:
    """`kubectl apply --server-side [--dry-run=server] --validate=strict` for one object."""
    resource = resources.get(api_version=body["apiVersion"], kind=body["kind"])
    path = resource.path(name=body["metadata"]["name"], namespace=namespace if resource.namespaced else None)
    query = [("fieldManager", FIELD_MANAGER), ("force", "true"), ("fieldValidation", "Strict")]
    if dry_run:
        query.append(("dryRun", "All"))
    request = api.param_serialize(
        "PATCH",
        path,
        query_params=query,
        header_params={"Content-Type": "application/apply-patch+yaml", "Accept": "application/json"},
        body=json.dumps(body),
        auth_settings=["BearerToken"],
    )
    response = api.call_api(*request)
    response.read()
    if not 200 <= response.status < 300:
        raise AssertionError(f"{body['kind']} {body['metadata']['name']}: HTTP {response.status} {response.data!r}")
    return json.loads(response.data)


def by_kind(objects: list[dict]) -> dict[tuple[str, str], dict]:
    return {(item["kind"], item["metadata"]["name"]): item for item in objects}


@pytest.fixture(scope="module")
def release(helm, kube_admin_api, tmp_path_factory) -> Iterator[tuple[str, list[dict]]]:
    """The chart applied for real in a namespace of its own, with the Secrets docs/deploy.md has one create first."""
    core = client.CoreV1Api(kube_admin_api)
    resources = DynamicClient(kube_admin_api).resources
    with temporary_namespace(core, prefix="berth-chart") as namespace:
        secrets = {
            "berth-database": {"url": "postgres://berth:not-a-password@berth-db-rw:5432/berth"},
            "berth-keys": {"secret-key": "not-a-real-secret-key", "audit-key": "not-a-real-audit-key"},
            "berth-ceph-keyring": {"keyring": "[client.berth]\n\tkey = AQAAAAAAAAAAABAAAAAAAAAAAAAAAAAAAAAAAA==\n"},
            "berth-metrics": {"token": "not-a-real-token"},
        }
        for name, data in secrets.items():
            core.create_namespaced_secret(
                namespace, client.V1Secret(metadata=client.V1ObjectMeta(name=name), string_data=data)
            )
        objects = render(helm, namespace, tmp_path_factory.mktemp("chart"))
        for body in objects:
            server_side_apply(kube_admin_api, resources, body, namespace, dry_run=True)
        web = resources.get(api_version="apps/v1", kind="Deployment")
        with pytest.raises(ApiException) as nothing_yet:
            web.get(name="berth-web", namespace=namespace)
        assert nothing_yet.value.status == 404, "a dry run creates nothing"
        for body in objects:
            server_side_apply(kube_admin_api, resources, body, namespace, dry_run=False)
        try:
            yield namespace, objects
        finally:
            rbac = client.RbacAuthorizationV1Api(kube_admin_api)
            name = f"{namespace}-berth"
            rbac.delete_cluster_role_binding(name)
            rbac.delete_cluster_role(name)


def test_helm_lint_passes(helm, tmp_path):
    values_file = tmp_path / "values.yaml"
    values_file.write_text(yaml.safe_dump(VALUES))
    linted = subprocess.run(
        [helm, "lint", "--strict", str(CHART), "--values", str(values_file)], capture_output=True, text=True
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_every_rendered_object_exists_on_the_api_server(release, kube_admin_api):
    namespace, objects = release
    resources = DynamicClient(kube_admin_api).resources
    expected = {
        ("ServiceAccount", "berth"),
        ("ClusterRole", f"{namespace}-berth"),
        ("ClusterRoleBinding", f"{namespace}-berth"),
        ("ConfigMap", "berth-ceph"),
        ("Service", "berth"),
        ("Ingress", "berth"),
        ("PodDisruptionBudget", "berth-web"),
        ("Deployment", "berth-web"),
        ("Deployment", "berth-worker"),
        ("Deployment", "berth-scheduler"),
    }
    rendered = set(by_kind(objects))
    assert expected <= rendered
    [job] = [name for kind, name in rendered if kind == "Job"]
    assert job.startswith("berth-migrate-")
    for body in objects:
        resource = resources.get(api_version=body["apiVersion"], kind=body["kind"])
        found = resource.get(name=body["metadata"]["name"], namespace=namespace if resource.namespaced else None)
        assert found.metadata.managedFields, f"{body['kind']} {body['metadata']['name']} was applied"


def test_the_workloads_are_what_the_issue_asks_for(release, kube_admin_api):
    namespace, _ = release
    apps = client.AppsV1Api(kube_admin_api)
    web = apps.read_namespaced_deployment("berth-web", namespace)
    assert web.spec.replicas >= 2
    [container] = web.spec.template.spec.containers
    assert container.readiness_probe.http_get.path == "/readyz"
    assert container.liveness_probe.http_get.path == "/healthz"
    assert [init.name for init in web.spec.template.spec.init_containers] == ["wait-for-migrations"]
    worker = apps.read_namespaced_deployment("berth-worker", namespace)
    assert worker.spec.template.spec.containers[0].command == ["python", "manage.py", "berth_worker"]
    scheduler = apps.read_namespaced_deployment("berth-scheduler", namespace)
    assert scheduler.spec.replicas == 1 and scheduler.spec.strategy.type == "Recreate"
    assert scheduler.spec.template.spec.containers[0].command == ["python", "manage.py", "berth_scheduler"]

    [job] = client.BatchV1Api(kube_admin_api).list_namespaced_job(namespace).items
    script = job.spec.template.spec.containers[0].command[-1]
    assert script.startswith("python manage.py migrate --noinput")
    assert 'register_kube_cluster "this-cluster" --default --in-cluster' in script

    for deployment in (web, worker, scheduler):
        spec = deployment.spec.template.spec
        env = {variable.name: variable for variable in spec.containers[0].env}
        assert env["DATABASE_URL"].value_from.secret_key_ref.name == "berth-database"
        assert env["BERTH_SECRET_KEY_FILE"].value == "/etc/berth/secret-key/secret-key"
        assert env["BERTH_AUDIT_KEY_FILE"].value == "/etc/berth/audit-key/audit-key"
        assert env["BERTH_MANAGED_SECRET_RESYNC"].value == "60"
        volumes = {volume.name: volume for volume in spec.volumes}
        assert volumes["ceph-conf"].config_map.name == "berth-ceph"
        assert volumes["ceph-keyring"].secret.secret_name == "berth-ceph-keyring"
        mounts = {mount.name: mount for mount in spec.containers[0].volume_mounts}
        for secret in ("secret-key", "audit-key", "ceph-conf", "ceph-keyring"):
            assert mounts[secret].read_only, f"{secret} is mounted read-only"
        assert spec.service_account_name == "berth" and spec.automount_service_account_token


def test_the_cluster_role_holds_only_what_berth_calls(release, kube_admin_api):
    namespace, _ = release
    role = client.RbacAuthorizationV1Api(kube_admin_api).read_cluster_role(f"{namespace}-berth")
    granted = {(resource, verb) for rule in role.rules for resource in rule.resources for verb in rule.verbs}
    assert all(rule.api_groups == [""] for rule in role.rules)
    assert granted == {
        ("namespaces", "list"),
        *(("secrets", verb) for verb in ("get", "list", "create", "update", "delete")),
        *(("serviceaccounts", verb) for verb in ("get", "list", "patch")),
        ("pods", "list"),
        ("events", "list"),
        ("persistentvolumes", "list"),
    }


def test_a_schema_error_fails_the_dry_run(helm, kube_admin_api, kube_namespace, tmp_path):
    objects = by_kind(render(helm, kube_namespace, tmp_path))
    web = objects[("Deployment", "berth-web")]
    web["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = web["spec"]["template"]["spec"]["containers"][
        0
    ].pop("readinessProbe")
    with pytest.raises(AssertionError, match=r"readinessProbes: field not declared in schema"):
        server_side_apply(kube_admin_api, DynamicClient(kube_admin_api).resources, web, kube_namespace, dry_run=True)


# --- Berth as a pod of the cluster, with the chart's ServiceAccount -----------------------------------


@pytest.fixture
def in_cluster(release, kube_admin_api, kube_apiserver, monkeypatch, tmp_path, db) -> KubeCluster:
    """What Kubernetes gives a pod of the release: the ServiceAccount's token and the cluster's CA in
    SERVICE_ACCOUNT_DIR, the API server's address in KUBERNETES_SERVICE_HOST/PORT."""
    namespace, _ = release
    token = client.CoreV1Api(kube_admin_api).create_namespaced_service_account_token(
        "berth", namespace, client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=[]))
    )
    admin_config = yaml.safe_load(Path(kube_apiserver.admin_kubeconfig).read_text())
    (tmp_path / "token").write_text(token.status.token)
    (tmp_path / "ca.crt").write_bytes(
        base64.b64decode(admin_config["clusters"][0]["cluster"]["certificate-authority-data"])
    )
    host, port = kube_apiserver.url.removeprefix("https://").rsplit(":", 1)
    monkeypatch.setattr(kube_services, "SERVICE_ACCOUNT_DIR", tmp_path)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", host)
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", port)
    call_command("register_kube_cluster", "this-cluster", "--in-cluster", "--default", stdout=io.StringIO())
    return KubeCluster.objects.get(name="this-cluster")


def test_berth_in_the_cluster_does_its_work_with_the_charts_role(in_cluster, admin_user, core, namespace):
    assert in_cluster.in_cluster and not in_cluster.kubeconfig_path
    assert namespace in namespace_list(actor=admin_user, cluster=in_cluster)
    [result] = secret_create(
        actor=admin_user,
        cluster=in_cluster,
        namespaces=[namespace],
        name="team-pull",
        credentials=[Credential(server="registry.example.com", username="robot", password="first-password")],
    )
    assert result.outcome == "created", result.error
    assert linked_secrets(core, namespace) == ["team-pull"]
    assert [info.name for info in secret_list(actor=admin_user, cluster=in_cluster, namespace=namespace)] == [
        "team-pull"
    ]
    assert pull_doctor(actor=admin_user, cluster=in_cluster, namespace=namespace) == []
    secret_rotate(
        actor=admin_user,
        cluster=in_cluster,
        namespace=namespace,
        name="team-pull",
        server="registry.example.com",
        password="second-password",
    )
    _, config = stored_config(core, namespace, "team-pull")
    assert base64.b64decode(config["auths"]["registry.example.com"]["auth"]).decode() == "robot:second-password"
    secret_delete(actor=admin_user, cluster=in_cluster, namespace=namespace, name="team-pull", confirm_name="team-pull")
    assert linked_secrets(core, namespace) == []


def test_the_charts_service_account_may_do_nothing_more(in_cluster, namespace):
    core = client.CoreV1Api(kube_services.api_client(in_cluster))
    with pytest.raises(ApiException) as refused:
        core.list_namespaced_config_map(namespace)
    assert refused.value.status == 403
    with pytest.raises(ApiException) as refused:
        client.RbacAuthorizationV1Api(kube_services.api_client(in_cluster)).list_cluster_role()
    assert refused.value.status == 403


def test_without_a_service_account_token_berth_says_what_to_do(db, monkeypatch, tmp_path, admin_user):
    monkeypatch.setattr(kube_services, "SERVICE_ACCOUNT_DIR", tmp_path)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    cluster = KubeCluster.objects.create(name="this-cluster", in_cluster=True)
    with pytest.raises(NotConfigured) as error:
        namespace_list(actor=admin_user, cluster=cluster)
    assert "registered as the cluster Berth runs in" in error.value.operator_message
    assert "run Berth in a pod of that cluster" in error.value.operator_message


def test_the_volume_rights_are_granted_only_when_asked_for(helm, kube_admin_api, kube_namespace, tmp_path):
    values = {**VALUES, "kubernetes": {**VALUES.get("kubernetes", {}), "rbac": {"create": True, "volumes": True}}}
    role = by_kind(render(helm, kube_namespace, tmp_path, values))[("ClusterRole", f"{kube_namespace}-berth")]
    granted = {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    assert {
        ("", "configmaps", "update"),
        ("", "persistentvolumes", "create"),
        ("", "persistentvolumeclaims", "create"),
        ("storage.k8s.io", "storageclasses", "create"),
        ("ceph.rook.io", "cephblockpoolradosnamespaces", "list"),
    } <= granted
    server_side_apply(kube_admin_api, DynamicClient(kube_admin_api).resources, role, kube_namespace, dry_run=True)
