from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularSwaggerSplitView


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI, served from Berth's own static files.

    Swagger UI sets inline styles on its elements, so this one page allows inline styles (not
    scripts: the split view already serves its start-up script as a file)."""

    def dispatch(self, request, *args, **kwargs):
        response = super().dispatch(request, *args, **kwargs)
        response["Content-Security-Policy"] = settings.BERTH_CONTENT_SECURITY_POLICY.replace(
            "style-src 'self'", "style-src 'self' 'unsafe-inline'"
        )
        return response


@csrf_exempt  # it changes nothing, and an old client's POST must get the pointer, not a CSRF page
def unversioned_api_gone(request: HttpRequest, rest: str) -> JsonResponse:
    """410 for the API's paths before versioning (/api/<rest>), pointing at /api/v1/<rest>.

    Not a redirect: v1 also moved the RBD namespace of PATCH, DELETE and POST out of the body, so
    an old client must be changed, not silently sent on."""
    successor = f"{reverse('api-schema').removesuffix('schema/')}{rest}"
    if request.META.get("QUERY_STRING"):
        successor += f"?{request.META['QUERY_STRING']}"
    response = JsonResponse(
        {
            "code": "api_moved",
            "detail": f"The API is versioned: use {successor}. Since v1 a storage request names its RBD namespace "
            f"in the query string (?namespace=) for every method, never in the body. "
            f"Documentation: {reverse('api-docs')}",
            "successor": successor,
        },
        status=410,
    )
    response["Link"] = f'<{successor}>; rel="successor-version"'
    return response
