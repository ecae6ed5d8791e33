"""The operations endpoints: /healthz and /readyz for Kubernetes' probes, /metrics for Prometheus.

/healthz says the process answers, and touches nothing else. /readyz says whether the process can
serve: the database must answer. The Ceph and Kubernetes clusters are reported too but never make it
unready: a dead storage cluster is no reason to take away the pages that say what is wrong with it.

A cluster that is down can hold a call for seconds, and a probe must answer within one: the cluster
calls go through dashboard/probes.py, which answers with the last known state when a call is slow.

Who may read what: everyone gets /healthz and /readyz's status (the kubelet probes from its node's
address). /metrics and /readyz's clusters need the bearer token BERTH_METRICS_TOKEN, or a request from
BERTH_METRICS_ALLOWED_NETWORKS (loopback by default) that did not come through a proxy: behind a
reverse proxy on the same host every request arrives from loopback.
"""

import hmac
import ipaddress
import logging
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from dashboard.metrics import BerthCollector
from dashboard.probes import BUDGET, ClusterAnswer, cluster_answers

logger = logging.getLogger(__name__)

# Headers a proxy adds: such a request's REMOTE_ADDR is the proxy's, not the client's.
_PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


# --- who may read ----------------------------------------------------------------------------------


def allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(network, strict=False) for network in settings.BERTH_METRICS_ALLOWED_NETWORKS]


def may_read_operations_data(request: HttpRequest) -> bool:
    token = settings.BERTH_METRICS_TOKEN
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), token.encode()):
        return True
    if any(header in request.META for header in _PROXY_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in allowed_networks())


def _refused() -> HttpResponse:
    response = JsonResponse(
        {"detail": "Give the metrics token (Authorization: Bearer ...) or ask from an allowed network."}, status=401
    )
    response["WWW-Authenticate"] = 'Bearer realm="berth-metrics"'
    return response


# --- the endpoints ---------------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _cluster_report(result: ClusterAnswer) -> dict[str, Any]:
    report: dict[str, Any] = {"kind": result.kind, "name": result.record.name}
    report["last_contact"] = _iso(result.record.last_contact)
    answer = result.answer
    if answer is None:
        return {**report, "reachable": None, "detail": f"No answer within {BUDGET} s yet; still asking."}
    report |= {"reachable": answer.error is None, "checked_seconds_ago": round(answer.age, 1)}
    if answer.error is None:
        return {**report, "status" if result.kind == "ceph" else "version": answer.value}
    # The message meant for anyone: addresses and paths stay in the server log (BerthError.operator_message).
    return {**report, "code": answer.error.code, "detail": answer.error.message}


@csrf_exempt
@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "alive"})


@csrf_exempt
@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database: dict[str, Any] = {"reachable": True}
    except DatabaseError as error:
        logger.warning("readiness: the database does not answer: %s", error)
        database = {"reachable": False, "detail": "The database does not answer; the server log says why."}
    body: dict[str, Any] = {"status": "ready" if database["reachable"] else "not ready", "database": database}
    if database["reachable"] and may_read_operations_data(request):
        body["clusters"] = [_cluster_report(result) for result in cluster_answers()]
    return JsonResponse(body, status=200 if database["reachable"] else 503)


@csrf_exempt
@require_GET
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not may_read_operations_data(request):
        return _refused()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BerthCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
