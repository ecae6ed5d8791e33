"""Django's own error pages (handler403/404/500 in dashboard/urls.py) inside Berth's layout: a page
that refuses or cannot be found says why and who can help, with the navigation still there."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.urls import reverse

from dashboard.core.context import current_request_id


def permission_denied(request: HttpRequest, exception: PermissionDenied | None = None) -> HttpResponse:
    return render(request, "403.html", {"title": "Access denied", "message": str(exception or "")}, status=403)


def page_not_found(request: HttpRequest, exception: Http404 | None = None) -> HttpResponse:
    if request.path.startswith(reverse("api-schema").removesuffix("schema/")):
        # A path no API route matches (an id that is not a number, say) answers in the API's own shape.
        return JsonResponse(
            {
                "code": "not_found",
                "detail": f"Nothing in the API answers at {request.path}; see {reverse('api-docs')}.",
            },
            status=404,
        )
    # A view's own Http404("...") says what is missing; the resolver's message is a dict of patterns.
    said = exception.args[0] if exception is not None and exception.args else ""
    message = said if isinstance(said, str) else ""
    return render(request, "404.html", {"title": "Page not found", "message": message}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Rendered without the request's context: whatever failed (the database?) would fail again in a
    # context processor. The request id is what a platform admin looks for in the log.
    page = loader.get_template("500.html").render({"title": "Server error", "request_id": current_request_id.get()})
    return HttpResponseServerError(page)
