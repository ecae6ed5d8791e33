"""What every API view of every app shares: input validation through a serializer and the error
responses the schema lists for each operation (all rendered by `berth_exception_handler`)."""

from typing import Any

from rest_framework.views import APIView

from dashboard.core.api.serializers import ErrorSerializer

# 413: any request body over DATA_UPLOAD_MAX_MEMORY_SIZE (dashboard/core/api/exceptions.py).
ERROR_RESPONSES = dict.fromkeys((400, 401, 403, 404, 409, 413, 415, 503), ErrorSerializer)


def with_errors(ok: dict) -> dict:
    """The schema's responses for an operation: its own success responses plus Berth's errors."""
    return {**ERROR_RESPONSES, **ok}


class BerthApiView(APIView):
    @staticmethod
    def valid(serializer_class, data) -> dict[str, Any]:
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data
