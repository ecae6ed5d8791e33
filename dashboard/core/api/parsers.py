"""The API's JSON parser: DRF's lets a deeply nested document exhaust the stack (a RecursionError, a 500).
The body's size is bounded before parsing: DRF reads it through `request.body`, which Django refuses past
DATA_UPLOAD_MAX_MEMORY_SIZE (answered in dashboard/core/api/exceptions.py)."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class NestingSafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
