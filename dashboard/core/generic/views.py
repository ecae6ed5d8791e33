"""Generic views for objects that live behind a service (Ceph, a registry, Kubernetes), written once
and reused by every app: a list with sort / search / pagination, a form that calls one service,
a confirmation (optionally by typing the object's name), a one-click action, and the status of a
background task.

Each view answers an htmx request with just its fragment and a normal request with the whole page,
so the same URL works with and without JavaScript and keeps working with Back (`hx-push-url`).
A BerthError from a service never becomes a 500: a form shows it next to the field it names (or
above the form), a list or page shows `htmx/error.html` with the error's HTTP status.
"""

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast, runtime_checkable

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django_htmx.http import HttpResponseClientRedirect, reswap
from django_htmx.middleware import HtmxDetails

from dashboard.core.errors import BerthError
from dashboard.core.generic.forms import StyledForm, TypedNameConfirmForm

PER_PAGE_CHOICES = (25, 50, 100)


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def _htmx(request: HttpRequest) -> HtmxDetails:
    # HtmxMiddleware sets `request.htmx` on every request; Django's HttpRequest type does not declare it.
    return cast(HtmxHttpRequest, request).htmx


@runtime_checkable
class FollowedOnItsOwnPage(Protocol):
    """A result that is still going on (a background task): the browser is sent to its progress page,
    which leads on to `next_url` once it has finished."""

    def progress_page_url(self, *, next_url: str) -> str: ...


def htmx_partial(request: HttpRequest) -> bool:
    """True when the request wants a fragment: htmx, but neither a boosted whole-page navigation
    nor Back to a pushed URL that htmx no longer has cached (that needs the whole page)."""
    htmx = _htmx(request)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render_error(request: HttpRequest, error: BerthError, *, title: str = "Error") -> HttpResponse:
    template = "htmx/error.html" if htmx_partial(request) else "generic/error_page.html"
    return render(request, template, {"error": error, "title": title}, status=error.http_status)


def redirect_after_success(request: HttpRequest, url: str) -> HttpResponse:
    # A full navigation, so the page the operator lands on shows the new state and the toast.
    if _htmx(request):
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


def safe_next_url(request: HttpRequest, fallback: str) -> str:
    candidate = request.GET.get("next", "")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback


# --- Lists -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One table column. `key` is the item's attribute and, when sortable, the sort key the
    service understands, so a column means the same thing in the UI, the API and the code."""

    key: str
    label: str
    sortable: bool = False


@dataclass(frozen=True)
class ListQuery:
    search: str = ""
    sort: str = ""
    descending: bool = False
    page: int = 1
    per_page: int = PER_PAGE_CHOICES[0]

    @classmethod
    def from_request(
        cls, request: HttpRequest, *, sortable: Iterable[str], default_sort: str, default_descending: bool = False
    ) -> "ListQuery":
        """Unknown or malformed parameters fall back to the defaults instead of failing: they come
        from URLs people bookmark and edit."""
        sort = request.GET.get("sort", default_sort)
        if sort not in set(sortable):
            sort = default_sort
        try:
            page = max(1, int(request.GET.get("page", 1)))
        except ValueError:
            page = 1
        try:
            per_page = int(request.GET.get("per_page", PER_PAGE_CHOICES[0]))
        except ValueError:
            per_page = PER_PAGE_CHOICES[0]
        if per_page not in PER_PAGE_CHOICES:
            per_page = PER_PAGE_CHOICES[0]
        return cls(
            search=request.GET.get("q", "").strip(),
            sort=sort,
            descending=request.GET.get("dir", "desc" if default_descending else "asc") == "desc",
            page=page,
            per_page=per_page,
        )

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def limit(self) -> int:
        return self.per_page


@dataclass(frozen=True)
class ListPage:
    items: Sequence[Any]
    total: int
    query: ListQuery

    @property
    def page_count(self) -> int:
        return max(1, math.ceil(self.total / self.query.per_page))

    @property
    def first_index(self) -> int:
        return self.query.offset + 1 if self.items else 0

    @property
    def last_index(self) -> int:
        return self.query.offset + len(self.items)

    @property
    def previous_page(self) -> int | None:
        return self.query.page - 1 if self.query.page > 1 else None

    @property
    def next_page(self) -> int | None:
        return self.query.page + 1 if self.query.page < self.page_count else None


def page_of(
    items: Iterable[Any],
    query: ListQuery,
    *,
    search_key: Callable[[Any], str],
    sort_keys: dict[str, Callable[[Any], Any]],
) -> ListPage:
    """Search, sort and cut a page out of a list a service returned whole (pools, snapshots,
    trash entries are few enough to come back in one call; images are paged by their service)."""
    needle = query.search.casefold()
    chosen = [item for item in items if needle in search_key(item).casefold()]
    sort_key = sort_keys.get(query.sort)
    if sort_key is not None:
        # None (unknown) values sort last whatever the direction, like the services do.
        known = [item for item in chosen if sort_key(item) is not None]
        unknown = [item for item in chosen if sort_key(item) is None]
        chosen = sorted(known, key=sort_key, reverse=query.descending) + unknown
    return ListPage(items=chosen[query.offset : query.offset + query.limit], total=len(chosen), query=query)


class ServiceListView(LoginRequiredMixin, View):
    """A table of objects fetched through ONE service call.

    Subclasses declare `columns`, `table_template` (the fragment, extending `htmx/table.html`)
    and implement `fetch()`; `kept_params` names query parameters (besides search, sort and page)
    that identify what is listed and must survive sorting and paging, e.g. `namespace`.
    """

    template_name = "generic/object_list.html"
    table_template = "htmx/table.html"
    columns: Sequence[Column] = ()
    default_sort = "name"
    default_descending = False
    search_placeholder = "Search by name"
    kept_params: Sequence[str] = ()

    # Read-only properties rather than attributes: subclasses either set them or compute them from the request.
    @property
    def title(self) -> str:
        return ""

    def fetch(self, query: ListQuery) -> ListPage:
        raise NotImplementedError

    def get_context_data(self) -> dict[str, Any]:
        """Page-level context (headings, action links); only computed for full pages."""
        return {}

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        query = ListQuery.from_request(
            request,
            sortable=[c.key for c in self.columns if c.sortable],
            default_sort=self.default_sort,
            default_descending=self.default_descending,
        )
        try:
            listing = self.fetch(query)
            context = {} if htmx_partial(request) else self.get_context_data()
        except BerthError as error:
            if htmx_partial(request):
                # In place of the table, so the next search or page click still has a target.
                return render(request, self.table_template, {"view": self, "error": error}, status=error.http_status)
            return render_error(request, error, title=self.title)
        kept = {name: request.GET[name] for name in self.kept_params if request.GET.get(name)}
        context.update(
            {
                "view": self,
                "title": self.title,
                "page": listing,
                "query": query,
                "columns": self.columns,
                "kept_params": kept,
                "list_url": request.path,
                "per_page_choices": PER_PAGE_CHOICES,
                "search_placeholder": self.search_placeholder,
                "table_template": self.table_template,
            }
        )
        template = self.table_template if htmx_partial(request) else self.template_name
        return render(request, template, context)


class ServiceDetailView(LoginRequiredMixin, View):
    """One object's page: `load()` reads it (and what belongs on its page) through the services."""

    template_name = ""

    # Read-only properties rather than attributes: subclasses either set them or compute them from the request.
    @property
    def title(self) -> str:
        return ""

    def load(self) -> dict[str, Any]:
        raise NotImplementedError

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        try:
            context = self.load()
        except BerthError as error:
            return render_error(request, error, title=self.title)
        return render(request, self.template_name, {"view": self, "title": self.title, **context})


# --- Forms and confirmations --------------------------------------------------------------------


def attach_error(form: forms.Form, error: BerthError, actor) -> None:
    """Show a service's refusal where the operator will look: next to the field it names (forms
    name their fields after the service's arguments), otherwise above the form."""
    named = error.extra.get("field")
    form.add_error(named if named in form.fields else None, error.message_for(actor))


class ServiceFormView(LoginRequiredMixin, View):
    """Validate a Django form, call ONE service with it, and report the outcome.

    Subclasses set `form_class` and implement `perform()` (the service call) and `back_url()`, the
    page the form returns to on Cancel and, unless `success_url()` says otherwise, after success.
    `load()` fetches what the page shows next to the form (e.g. the image being resized); it runs
    inside the same error handling as the service call. The success hooks read the validated input
    from `self.form.cleaned_data`, never from the raw request.
    """

    template_name = "generic/object_form.html"
    submit_label = "Save"
    submit_style = "primary"

    # Read-only properties rather than attributes: subclasses either set them or compute them from the request.
    @property
    def form_class(self) -> type[forms.Form]:
        return forms.Form

    @property
    def form_template(self) -> str:
        return "generic/_form.html"

    @property
    def title(self) -> str:
        return ""

    def load(self) -> dict[str, Any]:
        return {}

    def get_initial(self) -> dict[str, Any]:
        return {}

    def get_form_kwargs(self) -> dict[str, Any]:
        return {}

    def perform(self, form: forms.Form) -> Any:
        raise NotImplementedError

    def success_message(self, result: Any) -> str:
        return "Done."

    def back_url(self) -> str:
        return reverse("overview")

    def success_url(self, result: Any) -> str:
        return self.back_url()

    def cancel_url(self) -> str:
        return safe_next_url(self.request, self.back_url())

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        try:
            self.loaded = self.load()
        except BerthError as error:
            return render_error(request, error, title=self.title)
        form = self.form_class(initial=self.get_initial(), **self.get_form_kwargs())
        return self.render_form(form)

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        try:
            self.loaded = self.load()
        except BerthError as error:
            return render_error(request, error, title=self.title)
        form = self.form_class(request.POST, initial=self.get_initial(), **self.get_form_kwargs())
        if not form.is_valid():
            return self.render_form(form, status=400)
        self.form = form
        try:
            result = self.perform(form)
        except BerthError as error:
            attach_error(form, error, self.request.user)
            return self.render_form(form, status=error.http_status, error=error)
        messages.success(request, self.success_message(result))
        if isinstance(result, FollowedOnItsOwnPage):
            return redirect_after_success(request, result.progress_page_url(next_url=self.success_url(result)))
        return redirect_after_success(request, self.success_url(result))

    def render_form(self, form: forms.Form, *, status: int = 200, error: BerthError | None = None) -> HttpResponse:
        context = {
            **self.loaded,
            "view": self,
            "form": form,
            "title": self.title,
            "submit_label": self.submit_label,
            "submit_style": self.submit_style,
            "action_url": self.request.get_full_path(),
            "cancel_url": self.cancel_url(),
            "form_template": self.form_template,
            "error": error,
        }
        template = self.form_template if htmx_partial(self.request) else self.template_name
        return render(self.request, template, context, status=status)


class ConfirmView(ServiceFormView):
    """A confirmation page for an action that cannot be taken back (rollback, deletion).
    With `typed_name()` returning a name, the operator must type it."""

    template_name = "generic/confirm_delete.html"
    form_template = "generic/_confirm_form.html"
    submit_label = "Delete"
    submit_style = "danger"

    @property
    def warning(self) -> str:
        return ""

    def typed_name(self) -> str | None:
        return None

    @property
    def form_class(self) -> type[forms.Form]:
        return TypedNameConfirmForm if self.typed_name() is not None else StyledForm

    def get_form_kwargs(self) -> dict[str, Any]:
        expected = self.typed_name()
        return {} if expected is None else {"expected_name": expected}

    def render_form(self, form: forms.Form, **kwargs: Any) -> HttpResponse:
        self.loaded = {**self.loaded, "warning": self.warning}
        return super().render_form(form, **kwargs)


class ServiceActionView(LoginRequiredMixin, View):
    """A one-click change that needs no form and loses nothing (protect a snapshot, restore from
    the trash): POST only, then back to where the operator was, with a toast."""

    http_method_names = ["post"]

    def perform(self) -> Any:
        raise NotImplementedError

    def success_message(self, result: Any) -> str:
        return "Done."

    def back_url(self) -> str:
        return reverse("overview")

    def success_url(self, result: Any) -> str:
        return self.back_url()

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        try:
            result = self.perform()
        except BerthError as error:
            if htmx_partial(request):
                # The page stays as it was; the refusal arrives as a toast that stays until dismissed.
                messages.error(request, error.message_for(request.user))
                return reswap(render(request, "htmx/toasts_oob.html", status=error.http_status), "none")
            return render_error(request, error)
        messages.success(request, self.success_message(result))
        if isinstance(result, FollowedOnItsOwnPage):
            return redirect_after_success(request, result.progress_page_url(next_url=self.success_url(result)))
        return redirect_after_success(request, self.success_url(result))
