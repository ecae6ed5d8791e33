"""Berth's one way into a Kubernetes API server.

Everything in the registry app that talks to Kubernetes goes through `KubeApi`: it holds one
client per registered cluster, puts a timeout on every request, and turns the client's errors
into Berth errors that say what the operator must fix (which verb on which resource in which
namespace Berth's credentials lack, which field the server refused and why).

The credentials stay in the kubeconfig file named by the `KubeCluster` record, or, for the
cluster Berth runs in, in the ServiceAccount token Kubernetes mounts into the pod; they are read
when a client is built and never logged.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, cast

import urllib3
import yaml
from django.conf import settings
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from kubernetes.config.incluster_config import SERVICE_HOST_ENV_NAME, SERVICE_PORT_ENV_NAME, InClusterConfigLoader

from dashboard.core.clusters import note_contact
from dashboard.core.errors import (
    BerthError,
    Conflict,
    InvalidInput,
    NotConfigured,
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
)
from registry.models import KubeCluster

logger = logging.getLogger(__name__)

STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
# Where Kubernetes mounts a pod's ServiceAccount token and the cluster's CA (a "this cluster" record).
SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


class KubeUnreachable(ServiceUnavailable):
    default_code = "kube_unreachable"
    component = "kubernetes"


class KubeError(BerthError):
    default_code = "kube_error"
    component = "kubernetes"


class _RetryDroppedConnections(urllib3.Retry):
    """One retry absorbs a kept-alive connection the server dropped meanwhile. A timeout is never
    retried: urllib3 counts a TLS handshake that got no answer as a read error, like a dropped
    connection, and retrying it would double the wait on a silent API server."""

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: TracebackType | None = None,
    ) -> _RetryDroppedConnections:
        if isinstance(error, urllib3.exceptions.TimeoutError):
            raise urllib3.exceptions.MaxRetryError(_pool, url or "", error) from error
        return super().increment(method, url, response, error, _pool, _stacktrace)


def _timeout_seconds() -> float:
    """Seconds one request may take in all (connecting, TLS, the answer): a silent API server must
    fail a page within BERTH_KUBE_TIMEOUT rather than hang it."""
    return float(settings.BERTH_KUBE_TIMEOUT)


_clients: dict[tuple[Any, ...], client.ApiClient] = {}
_clients_lock = threading.Lock()


def _client_key(cluster: KubeCluster) -> tuple[Any, ...]:
    if cluster.in_cluster:
        # The token file is re-read by the client itself (Kubernetes rotates it); only the address can move.
        where = ("in-cluster", os.environ.get(SERVICE_HOST_ENV_NAME), os.environ.get(SERVICE_PORT_ENV_NAME))
        return cluster.pk, cluster.name, where
    # The file's identity is part of the key: a rewritten kubeconfig (new token, new server
    # address after a restart) gets a fresh client instead of a stale one.
    try:
        stat = os.stat(cluster.kubeconfig_path)
        file_identity: tuple[int, ...] = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    except OSError:
        file_identity = ()
    return cluster.pk, cluster.name, cluster.kubeconfig_path, cluster.context, file_identity


def api_client(cluster: KubeCluster) -> client.ApiClient:
    """The cached client for `cluster`, built from its kubeconfig (or the pod's ServiceAccount) on first use."""
    key = _client_key(cluster)
    with _clients_lock:
        cached = _clients.get(key)
        if cached is not None:
            return cached
        configuration = client.Configuration()
        configuration.retries = _RetryDroppedConnections(total=1)
        api = (
            _in_cluster_client(cluster, configuration)
            if cluster.in_cluster
            else _kubeconfig_client(cluster, configuration)
        )
        for stale in [k for k in _clients if k[0] == cluster.pk]:
            _clients.pop(stale).close()
        _clients[key] = api
        return api


def _kubeconfig_client(cluster: KubeCluster, configuration: client.Configuration) -> client.ApiClient:
    if not os.path.isfile(cluster.kubeconfig_path):
        # The client would only say "No configuration found".
        raise _misconfigured(
            cluster,
            f"Kubernetes cluster {cluster.name}: the kubeconfig "
            f"{cluster.kubeconfig_path} does not exist. Fix the path in the Django "
            "admin (Kubernetes clusters).",
        )
    try:
        return config.new_client_from_config(
            config_file=cluster.kubeconfig_path,
            context=cluster.context or None,
            persist_config=False,
            client_configuration=configuration,
        )
    except Exception as error:  # the loader walks whatever YAML it parsed without checking its shape
        context = f"context {cluster.context}" if cluster.context else "its current context"
        problem = (
            f"Kubernetes cluster {cluster.name}: cannot use the kubeconfig {cluster.kubeconfig_path} "
            f"with {context}: {_config_problem(error)}"
        )
        raise _misconfigured(cluster, problem) from None


def _in_cluster_client(cluster: KubeCluster, configuration: client.Configuration) -> client.ApiClient:
    loader = InClusterConfigLoader(
        token_filename=str(SERVICE_ACCOUNT_DIR / "token"), cert_filename=str(SERVICE_ACCOUNT_DIR / "ca.crt")
    )
    try:
        loader.load_and_set(configuration)
    except ConfigException as error:
        raise _misconfigured(
            cluster,
            f"Kubernetes cluster {cluster.name} is registered as the cluster Berth runs in, but this process "
            f"has no pod ServiceAccount to use ({error}): run Berth in a pod of that cluster with its token "
            f"mounted at {SERVICE_ACCOUNT_DIR}, or register the cluster with a kubeconfig.",
        ) from None
    return client.ApiClient(configuration)


def _credentials(cluster: KubeCluster) -> str:
    if cluster.in_cluster:
        return f"the ServiceAccount token in {SERVICE_ACCOUNT_DIR}"
    return cluster.kubeconfig_path


def _misconfigured(cluster: KubeCluster, problem: str) -> NotConfigured:
    """`problem` names files on the Berth host: platform admins only see it."""
    return NotConfigured(
        f"Kubernetes cluster {cluster.name} is not set up correctly in Berth.",
        operator_message=problem,
        code="kubeconfig_unreadable",
        component="kubernetes",
    )


def _config_problem(error: Exception) -> str:
    # Only what locates the problem: a parser's own message may quote the file, credentials included.
    if isinstance(error, ConfigException):
        return str(error)
    mark = getattr(error, "problem_mark", None)
    if isinstance(error, yaml.YAMLError) and mark is not None:
        return f"it is not valid YAML (line {mark.line + 1}, column {mark.column + 1})"
    if isinstance(error, yaml.YAMLError):
        return "it is not valid YAML"
    if isinstance(error, OSError):
        return f"it cannot be read ({error.strerror})"
    return f"it is not a kubeconfig ({type(error).__name__}); compare it with `kubectl config view`"


def _status_of(error: ApiException) -> dict[str, Any]:
    try:
        body = json.loads(error.body or "")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


_SINGULAR = {"secrets": "secret", "serviceaccounts": "service account", "pods": "pod", "namespaces": "namespace"}


def _where(resource: str, name: str | None, namespace: str | None) -> str:
    thing = f"{_SINGULAR.get(resource, resource)} {name}" if name else resource
    return f"{thing} in namespace {namespace}" if namespace else thing


def _api_error(
    error: ApiException, cluster: KubeCluster, verb: str, resource: str, namespace: str | None, name: str | None
) -> BerthError:
    status = _status_of(error)
    said = status.get("message") or error.reason or ""
    where = _where(resource, name, namespace)
    scope = f"in namespace {namespace}" if namespace else "cluster-wide"
    if error.status == 401:
        return PermissionDenied(
            f"Kubernetes cluster {cluster.name} does not accept Berth's credentials.",
            operator_message=f"Kubernetes cluster {cluster.name} does not accept Berth's credentials (HTTP 401): "
            f"the token or client certificate in {_credentials(cluster)} is wrong or expired. "
            + (
                "Check that Berth's ServiceAccount still exists."
                if cluster.in_cluster
                else "Renew it in that kubeconfig."
            ),
            code="kube_unauthorized",
            component="kubernetes",
        )
    if error.status == 403:
        return PermissionDenied(
            f"Berth's credentials on Kubernetes cluster {cluster.name} may not {verb} {resource} {scope}. "
            f"Grant it with a Role and RoleBinding (e.g. `kubectl create role berth --verb={verb} "
            f"--resource={resource}"
            + (f" -n {namespace}`" if namespace else "`, as a ClusterRole")
            + f"). The API server said: {said}",
            code="kube_forbidden",
            component="kubernetes",
        )
    if error.status == 404:
        return NotFound(
            f"There is no {where} on Kubernetes cluster {cluster.name}.", code="kube_not_found", component="kubernetes"
        )
    if error.status == 409:
        if status.get("reason") == "AlreadyExists":
            return Conflict(f"The {where} already exists.", code="already_exists", component="kubernetes")
        return Conflict(
            f"The {where} was changed by someone else meanwhile; reload and try again. ({said})",
            code="kube_conflict",
            component="kubernetes",
        )
    if error.status == 422:
        causes = (status.get("details") or {}).get("causes") or []
        fields = [f"{cause.get('field', '')}: {cause.get('message', '')}".lstrip(": ") for cause in causes]
        detail = "; ".join(fields) or said
        return InvalidInput(
            f"Kubernetes refused to {verb} {where}: {detail}",
            code="kube_invalid",
            component="kubernetes",
            extra={"fields": {c.get("field", ""): c.get("message", "") for c in causes}},
        )
    if error.status in (500, 502, 503, 504) or error.status == 0:
        return KubeUnreachable(
            f"Kubernetes cluster {cluster.name} could not {verb} {where} right now (HTTP {error.status}): {said}"
        )
    return KubeError(f"{verb} {where} failed on Kubernetes cluster {cluster.name} (HTTP {error.status}): {said}")


def _connection_reason(error: urllib3.exceptions.HTTPError) -> str:
    reason = getattr(error, "reason", None) or error
    if isinstance(reason, urllib3.exceptions.SSLError):
        return f"TLS failed ({reason}); check the certificate-authority in the kubeconfig"
    if isinstance(reason, (urllib3.exceptions.ConnectTimeoutError, urllib3.exceptions.ReadTimeoutError)):
        return f"no answer within {_timeout_seconds():g} s (BERTH_KUBE_TIMEOUT)"
    if isinstance(reason, urllib3.exceptions.NewConnectionError):
        return "connection refused or host unreachable"
    return type(reason).__name__


@contextmanager
def translate_kube_errors(
    cluster: KubeCluster, *, verb: str, resource: str, namespace: str | None = None, name: str | None = None
) -> Iterator[None]:
    """Turn client errors inside the block into Berth errors naming `verb` on `resource`."""
    try:
        yield
    except ApiException as error:
        raise _api_error(error, cluster, verb, resource, namespace, name) from None
    except urllib3.exceptions.HTTPError as error:
        server = api_client(cluster).configuration.host
        raise KubeUnreachable(
            f"Kubernetes cluster {cluster.name} is unreachable.",
            operator_message=f"Kubernetes cluster {cluster.name} at {server} is unreachable: "
            f"{_connection_reason(error)}.",
        ) from None


class KubeApi:
    """The calls the registry app makes, each with a timeout and translated errors.

    Returns the client's model objects; only registry/services sees them.
    """

    def __init__(self, cluster: KubeCluster) -> None:
        self.cluster = cluster
        self.core = client.CoreV1Api(api_client(cluster))
        # Requests made through this object, so the cost of a reconcile can be reported and measured.
        self.calls = 0

    def _call(
        self,
        verb: str,
        resource: str,
        namespace: str | None,
        name: str | None,
        method: Callable[..., Any],
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        self.calls += 1
        with translate_kube_errors(self.cluster, verb=verb, resource=resource, namespace=namespace, name=name):
            answer = method(*args, _request_timeout=_timeout_seconds(), **kwargs)
        note_contact(self.cluster)
        return answer

    def list_namespaces(self, *, label_selector: str = "") -> list[client.V1Namespace]:
        return cast(
            list[client.V1Namespace],
            self._call(
                "list", "namespaces", None, None, self.core.list_namespace, label_selector=label_selector or None
            ).items,
        )

    def list_secrets(self, namespace: str, *, secret_type: str) -> list[client.V1Secret]:
        return cast(
            list[client.V1Secret],
            self._call(
                "list",
                "secrets",
                namespace,
                None,
                self.core.list_namespaced_secret,
                namespace,
                field_selector=f"type={secret_type}",
            ).items,
        )

    def list_secrets_named(self, name: str) -> list[client.V1Secret]:
        """Every namespace's Secret called `name`, in one request."""
        return cast(
            list[client.V1Secret],
            self._call(
                "list",
                "secrets",
                None,
                None,
                self.core.list_secret_for_all_namespaces,
                field_selector=f"metadata.name={name}",
            ).items,
        )

    def read_secret(self, namespace: str, name: str) -> client.V1Secret:
        return self._call("get", "secrets", namespace, name, self.core.read_namespaced_secret, name, namespace)

    def find_secret(self, namespace: str, name: str) -> client.V1Secret | None:
        try:
            return self.read_secret(namespace, name)
        except NotFound:
            return None

    def create_secret(self, namespace: str, body: dict[str, Any]) -> client.V1Secret:
        return self._call(
            "create",
            "secrets",
            namespace,
            body["metadata"]["name"],
            self.core.create_namespaced_secret,
            namespace,
            body,
        )

    def replace_secret(self, namespace: str, secret: client.V1Secret) -> client.V1Secret:
        name = secret.metadata.name
        return self._call(
            "update", "secrets", namespace, name, self.core.replace_namespaced_secret, name, namespace, secret
        )

    def delete_secret(self, namespace: str, name: str) -> None:
        self._call("delete", "secrets", namespace, name, self.core.delete_namespaced_secret, name, namespace)

    def list_service_accounts(self, namespace: str) -> list[client.V1ServiceAccount]:
        return cast(
            list[client.V1ServiceAccount],
            self._call(
                "list", "serviceaccounts", namespace, None, self.core.list_namespaced_service_account, namespace
            ).items,
        )

    def list_service_accounts_everywhere(self) -> list[client.V1ServiceAccount]:
        return cast(
            list[client.V1ServiceAccount],
            self._call("list", "serviceaccounts", None, None, self.core.list_service_account_for_all_namespaces).items,
        )

    def find_service_account(self, namespace: str, name: str) -> client.V1ServiceAccount | None:
        try:
            return self._call(
                "get", "serviceaccounts", namespace, name, self.core.read_namespaced_service_account, name, namespace
            )
        except NotFound:
            return None

    def patch_service_account(self, namespace: str, name: str, patch: dict[str, Any]) -> client.V1ServiceAccount:
        return self._call(
            "patch",
            "serviceaccounts",
            namespace,
            name,
            self.core.patch_namespaced_service_account,
            name,
            namespace,
            patch,
            _content_type=STRATEGIC_MERGE_PATCH,
        )

    def list_pods(self, namespace: str) -> list[client.V1Pod]:
        return cast(
            list[client.V1Pod],
            self._call("list", "pods", namespace, None, self.core.list_namespaced_pod, namespace).items,
        )

    def list_pods_everywhere(self) -> list[client.V1Pod]:
        return cast(
            list[client.V1Pod], self._call("list", "pods", None, None, self.core.list_pod_for_all_namespaces).items
        )

    def server_version(self) -> str:
        version = client.VersionApi(self.core.api_client)
        return cast(str, self._call("get", "version", None, None, version.get_code).git_version)

    def list_events(self, namespace: str) -> list[client.CoreV1Event]:
        return cast(
            list[client.CoreV1Event],
            self._call("list", "events", namespace, None, self.core.list_namespaced_event, namespace).items,
        )


def kube_cluster_version(*, cluster: KubeCluster) -> str:
    """The API server's version (e.g. v1.37.2). A request with Berth's credentials: a server that no
    longer accepts them answers 401, so this shows the cluster is reachable and Berth may sign in (the
    readiness probe and the metrics ask it)."""
    return KubeApi(cluster).server_version()
