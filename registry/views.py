"""The image-pull secret UI: the create wizard, per-namespace secret management, the pull doctor.

Views validate with a form, call ONE service from registry/services and render; Kubernetes is
reached only through those services, which also decide who may see and change which namespace
(see registry/services/secrets.py). Where the wizard keeps passwords is explained in
registry/wizard.py.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from operator import attrgetter
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from dashboard.core.errors import BerthError
from dashboard.core.generic.views import (
    Column,
    ConfirmView,
    ListPage,
    ListQuery,
    ServiceActionView,
    ServiceDetailView,
    ServiceFormView,
    ServiceListView,
    attach_error,
    page_of,
    redirect_after_success,
    render_error,
)
from dashboard.tenancy import services as tenancy
from registry import forms as registry_forms
from registry.dockerconfig import normalise_server
from registry.imagematch import parse_image
from registry.links import registry_url
from registry.models import KubeCluster, Webhook
from registry.selectors import kube_cluster_get
from registry.services import (
    credential_health,
    doctor,
    node_config,
    notifications,
    pull_check,
    secrets,
    wizard_support,
)
from registry.services.registry_login import registry_login_test
from registry.throttles import LoginTestThrottle
from registry.wizard import (
    STEP_TITLES,
    STEPS,
    PasswordVault,
    RegistryRow,
    WizardState,
    kubectl_commands,
    review_manifest,
)


class KubeClusterMixin:
    """The cluster named by `?cluster=`, or the default one."""

    # Set by the view this is mixed into.
    request: HttpRequest
    kwargs: dict[str, Any]

    @cached_property
    def cluster(self) -> KubeCluster:
        return kube_cluster_get(actor=self.request.user, name=self.request.GET.get("cluster") or None)

    def service_args(self) -> dict[str, Any]:
        return {"actor": self.request.user, "cluster": self.cluster}


# --- Wizard ------------------------------------------------------------------------------------


def wizard_step_url(step: str) -> str:
    return reverse(f"registry:wizard-{step}")


@login_required
@require_GET
def wizard_start(request: HttpRequest) -> HttpResponse:
    """A fresh wizard, optionally prefilled (the pull doctor links here with what it found)."""
    previous = WizardState.load(request.session)
    vault = PasswordVault(request)
    if previous is not None:
        vault.forget(previous.id)
    state = WizardState(cluster=request.GET.get("cluster", ""))
    if request.GET.get("namespace"):
        state.namespaces = [request.GET["namespace"]]
    if request.GET.get("image"):
        try:
            state.registries = [
                RegistryRow(server=normalise_server(parse_image(request.GET["image"]).domain), username="")
            ]
        except BerthError:
            pass  # a prefill that does not parse is left for the operator to type
    if request.GET.get("service_account"):
        state.service_accounts = sorted({"default", request.GET["service_account"]})
    state.save(request.session)
    response = HttpResponseRedirect(wizard_step_url("target"))
    vault.apply(response)
    return response


# Pages that take a password or a config.json: an error report (the debug page, a mail to ADMINS) lists
# none of their POST parameters.
takes_passwords = method_decorator(sensitive_post_parameters(), name="dispatch")


@takes_passwords
class WizardStepView(ServiceFormView):
    """One step: GET shows it with what was entered before; Next validates and saves it; Back
    saves it when it is valid and goes back either way."""

    step = ""
    template_name = "registry/wizard.html"
    submit_label = "Next"
    http_method_names = ["get", "post"]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # Django sets the method of every request it dispatches.
        if not request.user.is_authenticated or cast(str, request.method).lower() not in self.http_method_names:
            return super().dispatch(request, *args, **kwargs)
        self.state = WizardState.load(request.session) or WizardState()
        if not self.state.may_open(self.step):
            return HttpResponseRedirect(wizard_step_url(self.state.first_open_step()))
        self.vault = PasswordVault(request)
        return self.vault.apply(super().dispatch(request, *args, **kwargs))

    @property
    def title(self) -> str:
        return f"New image-pull secret · {STEP_TITLES[self.step]}"

    @property
    def form_template(self) -> str:
        return f"registry/_wizard_{self.step}.html"

    @cached_property
    def cluster(self) -> KubeCluster:
        return kube_cluster_get(actor=self.request.user, name=self.state.cluster or None)

    def service_args(self) -> dict[str, Any]:
        return {"actor": self.request.user, "cluster": self.cluster}

    def back_url(self) -> str:
        return registry_url("secret-list", cluster=self.state.cluster)

    def previous_step(self) -> str | None:
        index = STEPS.index(self.step)
        return STEPS[index - 1] if index else None

    def next_step(self) -> str:
        return STEPS[STEPS.index(self.step) + 1]

    def bound_form(self):
        return self.form_class(self.request.POST, **self.get_form_kwargs())

    def save(self, form) -> None:
        raise NotImplementedError

    def held_passwords(self) -> dict[str, str] | None:
        return self.vault.get(self.state.id, [row.server for row in self.state.registries])

    def create_secrets(self, namespaces: list[str]) -> None:
        """Create the secret in `namespaces` with the passwords held for this wizard (Review's Create,
        Result's Retry) and record the outcome per namespace."""
        held = self.held_passwords()
        if held is None:
            raise PasswordsLost()
        results = secrets.secret_create(
            **self.service_args(),
            namespaces=namespaces,
            name=self.state.name,
            credentials=self.state.credentials(held),
            secret_type=self.state.type,
            service_accounts=self.state.service_accounts,
            labels=self.state.labels,
        )
        record_results(self.state, results, self.vault)

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        # Editing a step again means the steps after it must be confirmed again.
        self.state.completed = self.state.completed[: STEPS.index(self.step)]
        self.state.save(request.session)
        return super().get(request, **kwargs)

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        try:
            self.loaded = self.load()
        except BerthError as error:
            return render_error(request, error, title=self.title)
        form = self.bound_form()
        going_back = "back" in request.POST and self.previous_step() is not None
        if form.is_valid():
            try:
                self.save(form)
            except BerthError as error:
                attach_error(form, error, request.user)
                return self.render_form(form, status=error.http_status, error=error)
            if not going_back:
                self.state.complete(self.step)
            self.state.save(request.session)
        elif not going_back:
            return self.render_form(form, status=400)
        # Going back implies there is a previous step.
        return redirect_after_success(
            request, wizard_step_url(cast(str, self.previous_step()) if going_back else self.next_step())
        )

    def render_form(self, form, **kwargs: Any) -> HttpResponse:
        self.loaded = {
            **self.loaded,
            "state": self.state,
            "step": self.step,
            "previous_step": self.previous_step(),
            "steps": [(step, STEP_TITLES[step], step in self.state.completed) for step in STEPS],
        }
        return super().render_form(form, **kwargs)


class WizardTargetView(WizardStepView):
    step = "target"
    form_class = registry_forms.TargetForm

    @cached_property
    def cluster(self) -> KubeCluster:
        # The cluster select reloads the form with `?cluster=` to list that cluster's namespaces. A
        # tenant user starts on the first cluster offered, which is not always the default one.
        return kube_cluster_get(
            actor=self.request.user,
            name=self.request.GET.get("cluster")
            or self.request.POST.get("cluster")
            or self.state.cluster
            or next(iter(self.cluster_choices), None),
        )

    @cached_property
    def cluster_choices(self) -> list[str]:
        return wizard_support.cluster_names(actor=self.request.user)

    def load(self) -> dict[str, Any]:
        return {"namespace_choices": secrets.namespace_list(**self.service_args())}

    def get_form_kwargs(self) -> dict[str, Any]:
        return {"clusters": self.cluster_choices, "namespaces": self.loaded["namespace_choices"]}

    def get_initial(self) -> dict[str, Any]:
        return {"cluster": self.cluster.name, "namespaces": self.state.namespaces}

    def save(self, form: forms.Form) -> None:
        if form.cleaned_data["cluster"] != self.state.cluster:
            # Service accounts are chosen from the cluster's; another cluster's do not carry over.
            self.state.service_accounts = ["default"]
        self.state.cluster = form.cleaned_data["cluster"]
        self.state.namespaces = form.cleaned_data["namespaces"]


class WizardCredentialsView(WizardStepView):
    step = "credentials"

    def load(self) -> dict[str, Any]:
        return {"multipart": True}

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        # This step asks for the passwords again, so none entered earlier outlives it.
        self.vault.forget(self.state.id)
        self.state.completed = self.state.completed[: STEPS.index(self.step)]
        self.state.save(request.session)
        self.loaded = self.load()
        rows = [{"server": row.server, "username": row.username, "email": row.email} for row in self.state.registries]
        return self.render_form(registry_forms.CredentialsStepForm(rows=rows))

    def bound_form(self):
        return registry_forms.CredentialsStepForm(self.request.POST, self.request.FILES)

    def save(self, form: registry_forms.CredentialsStepForm) -> None:
        self.state.registries = [
            RegistryRow(server=credential.server, username=credential.username, email=credential.email or "")
            for credential in form.credentials
        ]
        self.state.notes = form.notes
        self.vault.hold(self.state.id, {credential.server: credential.password for credential in form.credentials})


class WizardOptionsView(WizardStepView):
    step = "options"
    form_class = registry_forms.OptionsForm

    def load(self) -> dict[str, Any]:
        return {
            "account_choices": wizard_support.service_account_choices(
                **self.service_args(), namespaces=self.state.namespaces
            )
        }

    def get_form_kwargs(self) -> dict[str, Any]:
        return {"service_accounts": self.loaded["account_choices"], "namespace_count": len(self.state.namespaces)}

    def get_initial(self) -> dict[str, Any]:
        return {
            "name": self.state.name,
            "type": self.state.type,
            "service_accounts": self.state.service_accounts,
            "labels": registry_forms.labels_text(self.state.labels),
        }

    def save(self, form: forms.Form) -> None:
        data = form.cleaned_data
        self.state.name, self.state.type = data["name"], data["type"]
        self.state.service_accounts, self.state.labels = data["service_accounts"], data["labels"]


class WizardReviewView(WizardStepView):
    step = "review"
    form_class = forms.Form
    submit_label = "Create"

    def load(self) -> dict[str, Any]:
        return {
            "manifest": review_manifest(self.state),
            "kubectl": kubectl_commands(self.state),
            "node_config_warning": node_config.WARNING,
            "node_config_path": node_config.KUBELET_PATH,
            "node_config_alternatives": node_config.ALTERNATIVES,
        }

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        if self.held_passwords() is None:
            return self.passwords_lost()
        return super().get(request, **kwargs)

    def passwords_lost(self) -> HttpResponse:
        messages.warning(
            self.request,
            "The passwords are no longer held (they are kept, sealed, for 15 minutes at most and only for "
            "this browser); enter them again.",
        )
        return redirect_after_success(self.request, wizard_step_url("credentials"))

    def save(self, form: forms.Form) -> None:
        if "back" in self.request.POST:
            return
        self.create_secrets(self.state.namespaces)

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        try:
            return super().post(request, **kwargs)
        except PasswordsLost:
            return self.passwords_lost()


class PasswordsLost(Exception):
    """The passwords can no longer be opened: their time is up, or this browser lost the wizard's cookie."""


def record_results(state: WizardState, results, vault: PasswordVault) -> None:
    """Merge a run's outcome per namespace into the state; forget the passwords once all succeeded."""
    by_namespace = {result["namespace"]: result for result in state.results}
    for result in results:
        by_namespace[result.namespace] = {
            "namespace": result.namespace,
            "outcome": result.outcome,
            "ok": result.ok,
            "message": result.message,
            "linked": list(result.linked),
            "not_linked": list(result.not_linked),
        }
    state.results = [by_namespace[namespace] for namespace in state.namespaces if namespace in by_namespace]
    if all(result["ok"] for result in state.results):
        vault.forget(state.id)


class WizardResultView(WizardStepView):
    step = "result"
    form_class = registry_forms.RetryForm
    submit_label = "Retry failed namespaces"

    def failed(self) -> list[str]:
        return [result["namespace"] for result in self.state.results if not result["ok"]]

    def get_form_kwargs(self) -> dict[str, Any]:
        return {"failed": self.failed()}

    def get_initial(self) -> dict[str, Any]:
        return {"namespaces": self.failed()}

    def load(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "results": self.state.results,
            "failed": self.failed(),
            "retry_possible": self.held_passwords() is not None,
        }

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        try:
            self.loaded = self.load()
        except BerthError as error:  # the cluster was removed from Berth since the secret was created
            return render_error(request, error, title=self.title)
        return self.render_form(self.form_class(initial=self.get_initial(), **self.get_form_kwargs()))

    def save(self, form: forms.Form) -> None:
        self.create_secrets(form.cleaned_data["namespaces"])

    def next_step(self) -> str:
        return self.step

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        try:
            return super().post(request, **kwargs)
        except PasswordsLost:
            messages.warning(request, "The passwords are no longer held; enter them again to retry.")
            return redirect_after_success(request, wizard_step_url("credentials"))


@sensitive_post_parameters()
@login_required
@require_POST
def wizard_test_login(request: HttpRequest) -> HttpResponse:
    """ "Test login" of one registry row; the row's field prefix comes with the request."""
    throttle = LoginTestThrottle()
    # DRF's UserRateThrottle reads only request.user and request.META, which a Django request has too, and no view.
    if not throttle.allow_request(request, None):  # type: ignore[arg-type]
        return render(
            request,
            "registry/_login_result.html",
            {
                "problem": f"Too many login tests; try again in {math.ceil(throttle.wait() or 1)} s.",
                "problem_code": "throttled",
            },
            status=429,
        )
    prefix = request.POST.get("row", "")
    form = registry_forms.RegistryLoginForm(request.POST, prefix=prefix or None)
    if not form.is_valid():
        problem = "; ".join(
            # Iterating an ErrorList yields its messages as text.
            f"{form.fields[name].label if name in form.fields else name}: {' '.join(cast(Iterable[str], errors))}"
            for name, errors in form.errors.items()
        )
        return render(request, "registry/_login_result.html", {"problem": problem, "problem_code": "invalid"})
    try:
        result = registry_login_test(
            actor=request.user,
            server=form.cleaned_data["server"],
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
        )
    except BerthError as error:
        return render(
            request,
            "registry/_login_result.html",
            {"problem": error.message, "problem_code": error.code},
            status=error.http_status,
        )
    return render(request, "registry/_login_result.html", {"result": result})


@login_required
@require_POST
def wizard_node_config(request: HttpRequest) -> HttpResponseBase:
    """The wizard's logins as a kubelet config.json to save (Review's "Download"), built from the passwords
    held for this wizard and kept nowhere: the answer is marked no-store."""
    state = WizardState.load(request.session)
    vault = PasswordVault(request)
    held = vault.get(state.id, [row.server for row in state.registries]) if state and state.registries else None
    if state is None or held is None:
        messages.warning(request, "The passwords are no longer held; enter them again to download the file.")
        return redirect_after_success(request, wizard_step_url("credentials"))
    credentials = state.credentials(held)
    try:
        built = node_config.node_config_build(
            actor=request.user,
            credentials=credentials,
            servers=[credential.server for credential in credentials],
            usernames=[credential.username for credential in credentials],
        )
    except BerthError as error:
        return render_error(request, error, title="Credentials for nodes")
    response = HttpResponse(built.document, content_type="application/json")
    response["Content-Disposition"] = 'attachment; filename="config.json"'
    response["Cache-Control"] = "no-store"
    return vault.apply(response)


@login_required
@require_GET
def wizard_check_name(request: HttpRequest) -> HttpResponse:
    form = registry_forms.SecretNameCheckForm(request.GET)
    return render(request, "registry/_name_check.html", {"form": form, "valid": form.is_valid()})


# --- Secret management ---------------------------------------------------------------------------


class NamespaceMixin(KubeClusterMixin):
    """Pages about one namespace's secrets; the namespace from the URL or `?namespace=`."""

    @property
    def namespace(self) -> str:
        return self.kwargs.get("namespace") or self.request.GET.get("namespace", "")

    @property
    def secret_name(self) -> str:
        return self.kwargs["name"]

    def secret_args(self) -> dict[str, Any]:
        return {**self.service_args(), "namespace": self.namespace, "name": self.secret_name}

    def load(self) -> dict[str, Any]:
        # Looked up before any form is shown, so an unknown or unconfigured cluster is reported
        # at once, and the page's links (which name it) can always be built.
        return {"cluster": self.cluster}

    def detail_url(self) -> str:
        return registry_url("secret-detail", self.namespace, self.secret_name, cluster=self.cluster.name)

    def back_url(self) -> str:
        return self.detail_url()

    def success_url(self, result: Any) -> str:
        return self.detail_url()


class SecretListView(NamespaceMixin, ServiceListView):
    template_name = "registry/secret_list.html"
    table_template = "registry/_secret_table.html"
    kept_params = ("namespace", "cluster")
    search_placeholder = "Search by name or registry"
    columns = (
        Column("name", "Name", sortable=True),
        Column("type", "Type", sortable=True),
        Column("entries", "Registries and users"),
        Column("service_accounts", "Linked service accounts"),
        Column("pods", "Pods using it"),
    )

    @property
    def title(self) -> str:
        return f"Pull secrets in {self.namespace}" if self.namespace else "Pull secrets"

    def fetch(self, query: ListQuery) -> ListPage:
        if not self.namespace:
            return ListPage(items=[], total=0, query=query)
        found = secrets.secret_list(**self.service_args(), namespace=self.namespace)
        return page_of(
            found,
            query,
            search_key=lambda info: " ".join([info.name, *(entry.server for entry in info.entries)]),
            sort_keys={"name": attrgetter("name"), "type": attrgetter("type")},
        )

    def get_context_data(self) -> dict[str, Any]:
        return {"namespace": self.namespace, "namespaces": secrets.namespace_list(**self.service_args())}


class SecretDetailView(NamespaceMixin, ServiceDetailView):
    template_name = "registry/secret_detail.html"

    def load(self) -> dict[str, Any]:
        info = secrets.secret_get(**self.secret_args())
        accounts = secrets.service_account_list(**self.service_args(), namespace=self.namespace)
        checked = credential_health.credential_health_list(**self.service_args(), namespace=self.namespace)
        health = {row.registry: row for row in checked if row.secret_name == info.name}
        return {
            "title": f"Pull secret {info.name}",
            "secret": info,
            "namespace": self.namespace,
            "unlinked_accounts": [name for name in accounts if name not in info.service_accounts],
            "entries": [(entry, health.get(entry.key)) for entry in info.entries],
        }


@takes_passwords
class SecretRotateView(NamespaceMixin, ServiceFormView):
    form_class = registry_forms.RotateForm
    submit_label = "Set new password"

    @property
    def server(self) -> str:
        return self.request.GET.get("server", "")

    @property
    def title(self) -> str:
        return f"New password for {self.server} in {self.secret_name}"

    def perform(self, form: forms.Form):
        return secrets.secret_rotate(**self.secret_args(), server=self.server, password=form.cleaned_data["password"])

    def success_message(self, info) -> str:
        return f"Password for {self.server} in {info.name} replaced; the other registries are unchanged."


@takes_passwords
class SecretAddEntryView(NamespaceMixin, ServiceFormView):
    form_class = registry_forms.RegistryLoginForm
    submit_label = "Add registry"

    @property
    def title(self) -> str:
        return f"Add a registry to {self.secret_name}"

    def perform(self, form: forms.Form):
        credential = form.cleaned_data["credential"]
        return secrets.secret_add_entry(
            **self.secret_args(),
            server=credential.server,
            username=credential.username,
            password=credential.password,
            email=credential.email,
        )

    def success_message(self, info) -> str:
        return f"{self.form.cleaned_data['credential'].server or 'Docker Hub'} added to {info.name}."


class SecretRemoveEntryView(NamespaceMixin, ConfirmView):
    submit_label = "Remove registry"

    @property
    def server(self) -> str:
        return self.request.GET.get("server", "")

    @property
    def title(self) -> str:
        return f"Remove {self.server} from {self.secret_name}"

    @property
    def warning(self) -> str:
        return (
            f"Pods using {self.secret_name} will no longer get the login for {self.server}; "
            "the other registries in it stay."
        )

    def perform(self, form: forms.Form):
        return secrets.secret_remove_entry(**self.secret_args(), server=self.server)

    def success_message(self, info) -> str:
        return f"{self.server} removed from {info.name}."


class SecretLinkView(NamespaceMixin, ServiceFormView):
    form_class = registry_forms.LinkForm
    submit_label = "Link"

    @property
    def title(self) -> str:
        return f"Link {self.secret_name} to service accounts"

    def load(self) -> dict[str, Any]:
        return {"accounts": secrets.service_account_list(**self.service_args(), namespace=self.namespace)}

    def get_form_kwargs(self) -> dict[str, Any]:
        return {"choices": self.loaded["accounts"]}

    def perform(self, form: forms.Form):
        return secrets.secret_link(**self.secret_args(), service_accounts=form.cleaned_data["service_accounts"])

    def success_message(self, info) -> str:
        return f"{info.name} is linked to {', '.join(info.service_accounts)}."


class SecretHealthCheckView(NamespaceMixin, ServiceActionView):
    def perform(self):
        return credential_health.credential_health_check_now(**self.secret_args())

    def success_message(self, rows) -> str:
        failing = [row.registry for row in rows if row.failing]
        return f"Login failing for {', '.join(failing)}." if failing else "Every registry login works."


class SecretUnlinkView(NamespaceMixin, ServiceActionView):
    def perform(self):
        return secrets.secret_unlink(**self.secret_args(), service_accounts=[self.kwargs["account"]])

    def success_message(self, info) -> str:
        return f"{info.name} unlinked from service account {self.kwargs['account']}."


class SecretDeleteView(NamespaceMixin, ConfirmView):
    submit_label = "Delete secret"

    @property
    def title(self) -> str:
        return f"Delete pull secret {self.secret_name}"

    @property
    def warning(self) -> str:
        return (
            f"{self.secret_name} is first removed from every service account in {self.namespace} that lists "
            "it, then deleted. Pods already running keep their images; new pods can no longer pull with it."
        )

    def typed_name(self) -> str:
        return self.secret_name

    def perform(self, form: forms.Form):
        return secrets.secret_delete(**self.secret_args(), confirm_name=form.cleaned_data["confirm_name"])

    def success_message(self, result) -> str:
        unlinked = f" after unlinking it from {', '.join(result.unlinked)}" if result.unlinked else ""
        still = (
            f" Pods {', '.join(result.pods_still_referencing)} still name it in their spec."
            if result.pods_still_referencing
            else ""
        )
        return f"Secret {result.name} deleted{unlinked}.{still}"

    def success_url(self, result) -> str:
        return registry_url("secret-list", namespace=self.namespace, cluster=self.cluster.name)


# --- Pull doctor ---------------------------------------------------------------------------------


class PullDoctorView(NamespaceMixin, ServiceDetailView):
    """Failing pods of a namespace; with `?image=`, what a new pod running that image would get."""

    template_name = "registry/doctor.html"
    title = "Pull doctor"

    def load(self) -> dict[str, Any]:
        context: dict[str, Any] = {
            "namespace": self.namespace,
            "namespaces": secrets.namespace_list(**self.service_args()),
        }
        image_form = registry_forms.DoctorImageForm(
            self.request.GET if "image" in self.request.GET else None, initial={"service_account": "default"}
        )
        context["image_form"] = image_form
        if not self.namespace:
            return context
        if image_form.is_bound:
            if image_form.is_valid() and "pull" in self.request.GET:
                check = pull_check.pull_check(
                    **self.service_args(), namespace=self.namespace, **image_form.cleaned_data
                )
                context["pull_check"], context["image_diagnosis"] = check, check.diagnosis
            elif image_form.is_valid():
                context["image_diagnosis"] = doctor.pull_doctor_for_image(
                    **self.service_args(), namespace=self.namespace, **image_form.cleaned_data
                )
        else:
            context["pods"] = doctor.pull_doctor(**self.service_args(), namespace=self.namespace)
        return context


# --- Notifications ---------------------------------------------------------------------------------


class NotificationListView(ServiceDetailView):
    """Notifications about pull secrets: for a tenant's admins, their tenants'; for platform admins, all."""

    template_name = "registry/notifications.html"
    title = "Notifications"

    def load(self) -> dict[str, Any]:
        return {
            "notifications": notifications.notification_list(
                actor=self.request.user, include_dismissed="all" in self.request.GET
            )
        }


class NotificationDismissView(ServiceActionView):
    def perform(self):
        return notifications.notification_dismiss(
            actor=self.request.user, notification_id=self.kwargs["notification_id"]
        )

    def success_message(self, notification) -> str:
        return "Notification dismissed."

    def back_url(self) -> str:
        return reverse("registry:notifications")


# --- Webhooks (platform admins) ------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookRow:
    """What a page shows of a webhook: never its URL, whose path may hold a token, nor its secret."""

    name: str
    destination: str
    tenant: str
    kinds: list[str]
    enabled: bool
    created: datetime

    @classmethod
    def of(cls, webhook: Webhook) -> WebhookRow:
        return cls(
            name=webhook.name,
            destination=notifications.destination(webhook.url),
            tenant=webhook.tenant.slug if webhook.tenant else "",
            kinds=list(webhook.kinds),
            enabled=webhook.enabled,
            created=webhook.created,
        )


class WebhookListView(ServiceListView):
    title = "Webhooks"
    template_name = "registry/webhook_list.html"
    table_template = "registry/_webhook_table.html"
    columns = (
        Column("name", "Name", sortable=True),
        Column("destination", "Sends to"),
        Column("tenant", "Tenant", sortable=True),
        Column("kinds", "Kinds"),
        Column("created", "Created", sortable=True),
    )

    def fetch(self, query: ListQuery) -> ListPage:
        rows = [WebhookRow.of(webhook) for webhook in notifications.webhook_list(actor=self.request.user)]
        return page_of(
            rows,
            query,
            search_key=lambda row: f"{row.name} {row.destination} {row.tenant}",
            sort_keys={column.key: attrgetter(column.key) for column in self.columns if column.sortable},
        )


class WebhookDetailView(ServiceDetailView):
    template_name = "registry/webhook_detail.html"

    @property
    def title(self) -> str:
        return f"Webhook {self.kwargs['name']}"

    def load(self) -> dict[str, Any]:
        name = self.kwargs["name"]
        return {
            "webhook": WebhookRow.of(notifications.webhook_get(actor=self.request.user, name=name)),
            "deliveries": notifications.webhook_deliveries(actor=self.request.user, name=name),
        }


@takes_passwords
class WebhookCreateView(ServiceFormView):
    form_class = registry_forms.WebhookForm
    title = "New webhook"
    submit_label = "Create webhook"

    def load(self) -> dict[str, Any]:
        # The form lists every tenant, which only a platform admin may see.
        tenancy.require_platform_admin(self.request.user, "set up webhooks")
        return {}

    def get_form_kwargs(self) -> dict[str, Any]:
        return {"tenants": sorted(tenancy.tenants_for(self.request.user).values_list("slug", flat=True))}

    def perform(self, form: forms.Form) -> Webhook:
        data = form.cleaned_data
        tenant = tenancy.tenant_get(actor=self.request.user, slug=data["tenant"]) if data["tenant"] else None
        return notifications.webhook_create(
            actor=self.request.user,
            name=data["name"],
            url=data["url"],
            secret=data["secret"],
            tenant=tenant,
            kinds=data["kinds"],
        )

    def success_message(self, webhook: Webhook) -> str:
        return f"Webhook {webhook.name} created: notifications go to {notifications.destination(webhook.url)}."

    def success_url(self, webhook: Webhook) -> str:
        return reverse("registry:webhook-detail", args=[webhook.name])

    def back_url(self) -> str:
        return reverse("registry:webhook-list")


class WebhookDeleteView(ConfirmView):
    submit_label = "Delete webhook"

    @property
    def title(self) -> str:
        return f"Delete webhook {self.kwargs['name']}"

    def load(self) -> dict[str, Any]:
        return {"webhook": WebhookRow.of(notifications.webhook_get(actor=self.request.user, name=self.kwargs["name"]))}

    @property
    def warning(self) -> str:
        return (
            f"Notifications stop going to {self.loaded['webhook'].destination}, deliveries still pending are "
            "dropped, and the signing secret is gone: to send there again, set the webhook up anew."
        )

    def perform(self, form: forms.Form) -> None:
        notifications.webhook_delete(actor=self.request.user, name=self.kwargs["name"])

    def success_message(self, result: None) -> str:
        return f"Webhook {self.kwargs['name']} deleted."

    def back_url(self) -> str:
        return reverse("registry:webhook-list")
