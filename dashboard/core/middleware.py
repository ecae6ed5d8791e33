import logging
import re
import uuid

from django.conf import settings
from django.urls import reverse
from django.utils.cache import patch_vary_headers

from dashboard.core.client_ip import client_ip
from dashboard.core.context import change_context, current_request_id

_INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Give every request an id that appears in its log lines, its audit events and the
    `X-Request-ID` response header, so an operator can connect the three; and note where the
    request's changes come from (ui, api or admin) and the client's address for the audit log."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.api_prefix = reverse("api-schema").rsplit("schema/", 1)[0]
        self.admin_prefix = reverse("admin:index")

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _INCOMING_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        if request.path.startswith(self.api_prefix):
            source = "api"
        elif request.path.startswith(self.admin_prefix):
            source = "admin"
        else:
            source = "ui"
        # X-Forwarded-For only from trusted proxies: a client writes it as it likes.
        with change_context(source=source, request_id=request_id, client_ip=client_ip(request)):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.BERTH_CONTENT_SECURITY_POLICY:
            response.setdefault("Content-Security-Policy", settings.BERTH_CONTENT_SECURITY_POLICY)
        return response


class VaryOnHtmxMiddleware:
    """Views answer htmx requests with a fragment and normal requests with a page, so caches
    must keep the two apart."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_vary_headers(response, ("HX-Request",))
        return response
