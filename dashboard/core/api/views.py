from django.conf import settings
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
