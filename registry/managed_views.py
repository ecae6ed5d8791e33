"""Pages of the managed pull secrets (registry/services/managed.py): the list, the fleet view of one
secret (each target namespace's state, polled while anything is out of line or a reconcile runs),
"repair now", adopt, rotating the source through the wizard's credentials step, and the settings."""

from __future__ import annotations

from functools import cached_property
from typing import Any, cast

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from dashboard.core.errors import BerthError
from dashboard.core.generic.views import (
    ConfirmView,
    ServiceActionView,
    ServiceDetailView,
    ServiceFormView,
)
from dashboard.tasks.models import BackgroundTask
from dashboard.tenancy import services as tenancy
from registry import forms as registry_forms
from registry.models import ManagedPullSecret
from registry.services import managed as service
from registry.views import takes_passwords


class ManagedSecretListView(ServiceDetailView):
    template_name = "registry/managed_list.html"
    title = "Managed pull secrets"

    def load(self) -> dict[str, Any]:
        return {
            "managed_secrets": service.managed_secret_list(actor=self.request.user),
            "may_create": bool(tenancy.administered_tenant_slugs(self.request.user))
            or tenancy.is_platform_admin(self.request.user),
        }


class ManagedSecretMixin:
    request: HttpRequest
    kwargs: dict[str, Any]

    @cached_property
    def managed(self) -> ManagedPullSecret:
        return service.managed_secret_get(
            actor=self.request.user, tenant=self.kwargs["tenant"], name=self.kwargs["name"]
        )

    def url(self, name: str, *args: str) -> str:
        return reverse(f"registry:{name}", args=[self.kwargs["tenant"], self.kwargs["name"], *args])

    def back_url(self) -> str:
        return self.url("managed-detail")


def buttons(request: HttpRequest, managed: ManagedPullSecret) -> dict[str, bool]:
    """Which buttons to offer (the services refuse the rest anyway): operators repair and rotate,
    admins change, adopt and delete."""
    role = tenancy.role_in(request.user, managed.tenant)
    return {"may_operate": role in (tenancy.OPERATOR, tenancy.ADMIN), "may_administer": role == tenancy.ADMIN}


class ManagedSecretDetailView(ManagedSecretMixin, ServiceDetailView):
    template_name = "registry/managed_detail.html"

    @property
    def title(self) -> str:
        return f"Managed pull secret {self.kwargs['name']}"

    def load(self) -> dict[str, Any]:
        return {"managed": self.managed, "fleet_url": self.url("managed-fleet"), **buttons(self.request, self.managed)}


class ManagedSecretFleetView(ManagedSecretMixin, ServiceDetailView):
    """The fleet table alone, which the detail page loads and polls with htmx."""

    template_name = "registry/_managed_fleet.html"

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        try:
            fleet = service.managed_secret_fleet(actor=request.user, managed=self.managed)
        except BerthError as error:
            return render(
                request,
                self.template_name,
                {"problem": error.message_for(request.user), "fleet_url": self.url("managed-fleet")},
            )
        running = fleet.task is not None and not fleet.task.is_finished
        return render(
            request,
            self.template_name,
            {
                "fleet": fleet,
                "poll": running or not fleet.in_sync,
                "fleet_url": self.url("managed-fleet"),
                "adopt_urls": {
                    entry.namespace: self.url("managed-adopt", entry.namespace)
                    for entry in fleet.namespaces
                    if entry.state == service.State.UNMANAGED and buttons(request, self.managed)["may_administer"]
                },
            },
        )


class ManagedSecretCreateView(ServiceFormView):
    form_class = registry_forms.ManagedSecretForm
    title = "New managed pull secret"
    submit_label = "Create"

    def get_form_kwargs(self) -> dict[str, Any]:
        actor = self.request.user
        slugs = (
            list(tenancy.tenants_for(actor).values_list("slug", flat=True))
            if tenancy.is_platform_admin(actor)
            else tenancy.administered_tenant_slugs(actor)
        )
        return {"tenants": sorted(slugs)}

    def perform(self, form: forms.Form) -> ManagedPullSecret:
        data = dict(form.cleaned_data)
        tenant = tenancy.tenant_get(actor=self.request.user, slug=data.pop("tenant"))
        return service.managed_secret_create(actor=self.request.user, tenant=tenant, **data)

    def success_message(self, managed: ManagedPullSecret) -> str:
        return f"{managed.name} is being copied into the namespaces of {managed.tenant.slug}."

    def back_url(self) -> str:
        return reverse("registry:managed-list")

    def success_url(self, managed: ManagedPullSecret) -> str:
        return reverse("registry:managed-detail", args=[managed.tenant.slug, managed.name])


class ManagedSecretEditView(ManagedSecretMixin, ServiceFormView):
    form_class = registry_forms.ManagedSecretForm

    @property
    def title(self) -> str:
        return f"Settings of {self.kwargs['name']}"

    def load(self) -> dict[str, Any]:
        return {"managed": self.managed}

    def get_form_kwargs(self) -> dict[str, Any]:
        return {"tenants": None}

    def get_initial(self) -> dict[str, Any]:
        managed = self.managed
        return {
            "source_namespace": managed.source_namespace,
            "source_name": managed.source_name,
            "target_labels": registry_forms.labels_text(managed.target_labels),
            "accounts": managed.accounts,
            "account_names": ", ".join(managed.account_names),
            "drift_policy": managed.drift_policy,
            "remove_departed": managed.remove_departed,
        }

    def perform(self, form: forms.Form) -> ManagedPullSecret:
        return service.managed_secret_update(actor=self.request.user, managed=self.managed, **form.cleaned_data)

    def success_message(self, managed: ManagedPullSecret) -> str:
        return f"Settings of {managed.name} saved; its copies are being brought in line."


class ManagedSecretDeleteView(ManagedSecretMixin, ConfirmView):
    submit_label = "Stop managing"

    @property
    def title(self) -> str:
        return f"Stop managing {self.kwargs['name']}"

    @property
    def warning(self) -> str:
        return (
            f"Berth stops keeping {self.kwargs['name']} in the namespaces of {self.kwargs['tenant']}. By default "
            "the copies stay where they are, linked as they are, and no longer follow the source; tick "
            "“Also delete the copies” to remove them."
        )

    @property
    def form_class(self) -> type[forms.Form]:
        return registry_forms.ManagedSecretDeleteForm

    def typed_name(self) -> str:
        return self.kwargs["name"]

    def perform(self, form: forms.Form) -> BackgroundTask | None:
        return service.managed_secret_delete(actor=self.request.user, managed=self.managed, **form.cleaned_data)

    def success_message(self, task: BackgroundTask | None) -> str:
        if task is None:
            return f"{self.kwargs['name']} is no longer managed; its copies stay."
        return f"{self.kwargs['name']} is no longer managed; its copies are being removed."

    def success_url(self, task: BackgroundTask | None) -> str:
        return reverse("registry:managed-list")


class ManagedSecretRepairView(ManagedSecretMixin, ServiceActionView):
    """Starts the reconcile and goes back to the fleet view, which follows it namespace by namespace."""

    def perform(self) -> ManagedPullSecret:
        service.managed_secret_repair(actor=self.request.user, managed=self.managed)
        return self.managed

    def success_message(self, managed: ManagedPullSecret) -> str:
        return f"Repairing {managed.name} in every namespace."


class ManagedSecretAdoptView(ManagedSecretMixin, ServiceActionView):
    def perform(self) -> service.NamespaceState:
        return service.managed_secret_adopt(
            actor=self.request.user, managed=self.managed, namespace=self.kwargs["namespace"]
        )

    def success_message(self, state: service.NamespaceState) -> str:
        return f"The secret in {state.namespace} is now kept by Berth."


@takes_passwords
class ManagedSecretRotateView(ManagedSecretMixin, ServiceFormView):
    """The wizard's credentials step, writing into the source; the fleet view then shows each copy follow."""

    form_template = "registry/_wizard_credentials.html"
    submit_label = "Write to the source"

    @property
    def title(self) -> str:
        return f"Rotate the source of {self.kwargs['name']}"

    @property
    def form_class(self) -> type[forms.Form]:
        # Not a Django form, but it answers what the generic view asks of one (is_valid, add_error, fields).
        return cast(type[forms.Form], registry_forms.SourceCredentialsForm)

    def load(self) -> dict[str, Any]:
        fleet = service.managed_secret_fleet(actor=self.request.user, managed=self.managed)
        return {"multipart": True, "step": "credentials", "entries": fleet.entries}

    def get_form_kwargs(self) -> dict[str, Any]:
        return {"files": self.request.FILES}

    def get_initial(self) -> dict[str, Any]:
        return {
            "rows": [
                {"server": entry.server, "username": entry.username, "email": entry.email or ""}
                for entry in self.loaded["entries"]
            ]
        }

    def perform(self, form: forms.Form) -> ManagedPullSecret:
        credentials = cast(registry_forms.SourceCredentialsForm, form).credentials
        service.managed_secret_rotate(actor=self.request.user, managed=self.managed, credentials=credentials)
        return self.managed

    def success_message(self, managed: ManagedPullSecret) -> str:
        return f"The source of {managed.name} holds the new logins; every copy follows now."
