from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from dashboard.core.errors import BerthError


def berth_exception_handler(exc, context):
    """Every API error is `{code, detail}` (plus `component` for Berth's own errors), so clients
    can branch on a stable code and show `detail` to a person."""
    if isinstance(exc, BerthError):
        return Response(exc.as_dict(actor=context["request"].user), status=exc.http_status)
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response(
            {"code": "too_large", "detail": f"Request body too large: at most {limit} bytes are accepted."},
            status=413,
        )
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, drf_exceptions.ValidationError):
        response.data = {"code": "invalid", "detail": "Some fields are not valid.", "fields": response.data}
    elif isinstance(exc, drf_exceptions.APIException):
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        response.data = {
            "code": exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code,
            "detail": str(detail),
        }
    return response
