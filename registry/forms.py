"""Forms of the pull-secret UI. Rules come from registry/validation.py and registry/dockerconfig.py,
which the services and the API use too, so a refusal reads the same everywhere.

Password inputs never render a value (`render_value=False`, Django's default), so a form shown
again after an error asks for the password again instead of writing it into the page. The same
holds for a pasted config.json, whose `auth` values are base64 of "user:password": its textarea
stays empty after an error, and the step says the document must be given again.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.forms import BaseFormSet, formset_factory
from django.urls import reverse

from dashboard.core.generic.forms import StyledForm, TypedNameConfirmForm, checked
from registry import validation
from registry.dockerconfig import (
    CONFIG_DOCUMENT_LIMIT,
    ConfigFormat,
    Credential,
    DockerConfigError,
    logins_for_secret,
    parse_config,
)
from registry.imagematch import ImageReferenceError, parse_image
from registry.models import ManagedPullSecret, Notification

SECRET_TYPE_CHOICES = [
    (ConfigFormat.DOCKERCONFIGJSON.secret_type, "kubernetes.io/dockerconfigjson (current)"),
    (ConfigFormat.DOCKERCFG.secret_type, "kubernetes.io/dockercfg (legacy)"),
]


def password_field(label: str = "Password") -> forms.CharField:
    return forms.CharField(label=label, strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))


def plain_text_input() -> forms.TextInput:
    return forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"})


class ServerInput(forms.TextInput):
    """The server field, which is shown again after an error unless it holds user info: a server
    typed as user:password@host would otherwise write the password into the page."""

    def format_value(self, value: Any) -> str | None:
        formatted = super().format_value(value)
        return None if formatted and "@" in formatted else formatted


class NeverWrittenBack(forms.Widget):
    """Like a password input, never writes a submitted value back into the page."""

    def format_value(self, value: Any) -> None:
        return None


class SecretTextInput(NeverWrittenBack, forms.TextInput):
    pass


class SecretTextarea(NeverWrittenBack, forms.Textarea):
    pass


class TargetForm(StyledForm):
    cluster = forms.ChoiceField(label="Cluster")
    namespaces = forms.MultipleChoiceField(
        label="Namespaces",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one namespace."},
    )

    def __init__(self, *args: Any, clusters: list[str], namespaces: list[str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["cluster"]).choices = [(name, name) for name in clusters]
        cast(forms.ChoiceField, self.fields["namespaces"]).choices = [(name, name) for name in namespaces]


class RegistryLoginForm(StyledForm):
    """One registry row of the credentials step; also what "Test login" sends."""

    server = forms.CharField(
        label="Registry server",
        required=False,
        widget=ServerInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="host[:port][/path]; empty means Docker Hub",
    )
    username = forms.CharField(label="Username", strip=False, widget=plain_text_input())
    password = password_field()
    email = forms.CharField(label="Email (optional)", required=False, widget=plain_text_input())

    def clean(self) -> dict[str, Any]:
        # Form.clean() answers cleaned_data; its stub also allows None, for overrides that answer nothing.
        cleaned = cast(dict[str, Any], super().clean())
        if self.errors:
            return cleaned
        try:
            cleaned["credential"] = Credential(
                server=cleaned["server"],
                username=cleaned["username"],
                password=cleaned["password"],
                email=cleaned["email"] or None,
            )
        except DockerConfigError as error:
            self.add_error(error.field if error.field in self.fields else "server", error.message)
        return cleaned


class _RegistryRows(BaseFormSet):
    # Every row is an "extra" row, so a row removed in the browser leaves a gap that is skipped
    # instead of an initial row that would be required.
    def initial_form_count(self) -> int:
        return 0


def registry_formset(data=None, *, rows: list[dict] | None = None) -> BaseFormSet:
    """The credentials step's rows: bound to `data`, or prefilled (passwords empty) from `rows`."""
    rows = rows or []
    factory = formset_factory(RegistryLoginForm, formset=_RegistryRows, extra=max(1, len(rows)))
    if data is not None:
        return factory(data, prefix="registries")
    return factory(prefix="registries", initial=rows)


class ConfigDocumentForm(StyledForm):
    config_text = forms.CharField(
        label="…or paste a config.json",
        required=False,
        strip=False,
        widget=SecretTextarea(attrs={"rows": 4, "spellcheck": "false", "autocomplete": "off"}),
        help_text="The contents of ~/.docker/config.json (or a legacy .dockercfg). Its logins are added; a "
        "registry given in a row above takes the row's login. It holds passwords, so it is never "
        "shown again: after an error, paste it again.",
    )
    config_file = forms.FileField(label="…or upload it", required=False)

    def clean(self) -> dict[str, Any]:
        # Form.clean() answers cleaned_data; its stub also allows None, for overrides that answer nothing.
        cleaned = cast(dict[str, Any], super().clean())
        upload = cleaned.get("config_file")
        if upload is not None:
            # Its size first; then no more than the limit and a byte is read, whatever the size said.
            document = upload.read(CONFIG_DOCUMENT_LIMIT + 1) if upload.size <= CONFIG_DOCUMENT_LIMIT else b""
            if upload.size > CONFIG_DOCUMENT_LIMIT or len(document) > CONFIG_DOCUMENT_LIMIT:
                self.add_error(
                    "config_file",
                    f"The file is larger than {CONFIG_DOCUMENT_LIMIT // 1024} KiB; a docker config.json is a few KiB.",
                )
                return cleaned
        else:
            document = cleaned.get("config_text", "")
        cleaned["parsed"] = None
        if document and document.strip():
            field = "config_file" if upload is not None else "config_text"
            try:
                cleaned["parsed"] = parse_config(document)
            except DockerConfigError as error:
                self.add_error(field, error.message)
        return cleaned


class CredentialsStepForm:
    """The registry rows and the config.json together; valid when they give at least one login."""

    fields: dict = {}  # errors from a service go above the rows (see dashboard.core.generic.views.attach_error)

    def __init__(self, data=None, files=None, *, rows: list[dict] | None = None):
        self.rows = registry_formset(data, rows=rows)
        self.document = ConfigDocumentForm(data, files)
        self.document_given = bool((data or {}).get("config_text", "").strip() or (files or {}).get("config_file"))
        """A config.json came with this submission; shown again after an error, the step asks for it again."""
        self.credentials: list[Credential] = []
        self.notes: list[str] = []
        self.problem = ""

    def is_valid(self) -> bool:
        if not (self.rows.is_valid() & self.document.is_valid()):
            return False
        typed = [form.cleaned_data["credential"] for form in self.rows.forms if form.cleaned_data.get("credential")]
        parsed = self.document.cleaned_data.get("parsed")
        try:
            logins = logins_for_secret(parsed, typed)
        except DockerConfigError as error:
            self.problem = error.message
            return False
        self.credentials, self.notes = list(logins.credentials), list(logins.notes)
        return True

    def add_error(self, field: str | None, message: str) -> None:
        self.problem = message


class OptionsForm(StyledForm):
    name = forms.CharField(
        label="Secret name",
        max_length=253,
        widget=plain_text_input(),
        help_text="Lower-case letters, digits, '-' and '.' (a DNS-1123 subdomain)",
    )
    type = forms.ChoiceField(
        label="Secret type",
        choices=SECRET_TYPE_CHOICES,
        widget=forms.RadioSelect,
        initial=ConfigFormat.DOCKERCONFIGJSON.secret_type,
    )
    service_accounts = forms.MultipleChoiceField(
        label="Link to service accounts", required=False, widget=forms.CheckboxSelectMultiple
    )
    labels = forms.CharField(
        label="Labels", required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="One key=value per line"
    )

    def __init__(self, *args: Any, service_accounts: dict[str, list[str]], namespace_count: int, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # Checked as the operator types (see registry.views.wizard_check_name), before Next.
        self.fields["name"].widget.attrs.update(
            {
                "hx-get": reverse("registry:wizard-check-name"),
                "hx-trigger": "keyup changed delay:300ms",
                "hx-target": "#name-check",
                "hx-swap": "innerHTML",
                "hx-sync": "this:replace",
                "aria-describedby": "id_name_helptext name-check",
            }
        )
        cast(forms.ChoiceField, self.fields["service_accounts"]).choices = [
            (name, name if len(where) == namespace_count else f"{name} (only in {', '.join(where)})")
            for name, where in service_accounts.items()
        ]

    def clean_name(self) -> str:
        return checked(validation.validate_subdomain, self.cleaned_data["name"], field="name")

    def clean_labels(self) -> dict[str, str]:
        return parsed_labels(self.cleaned_data["labels"])


def labels_text(labels: dict[str, str]) -> str:
    return "\n".join(f"{key}={value}" for key, value in labels.items())


class SecretNameCheckForm(forms.Form):
    """The as-you-type check of the options step."""

    name = forms.CharField(required=False, strip=False)

    def clean_name(self) -> str:
        return checked(validation.validate_subdomain, self.cleaned_data["name"], field="name")


class RetryForm(StyledForm):
    namespaces = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one failed namespace to retry."},
    )

    def __init__(self, *args: Any, failed: list[str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["namespaces"]).choices = [(name, name) for name in failed]


# --- Secret management ------------------------------------------------------------------------


class RotateForm(StyledForm):
    password = password_field("New password")


class LinkForm(StyledForm):
    service_accounts = forms.MultipleChoiceField(label="Service accounts", widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, choices: list[str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["service_accounts"]).choices = [(name, name) for name in choices]


class DoctorImageForm(StyledForm):
    image = forms.CharField(
        label="Image", widget=plain_text_input(), help_text="As in a pod spec, e.g. registry.example.com/team/app:1.2"
    )
    service_account = forms.CharField(
        label="Service account",
        required=False,
        initial="default",
        widget=plain_text_input(),
        help_text="default when left empty",
    )

    def clean_image(self) -> str:
        image = self.cleaned_data["image"]
        try:
            parse_image(image)
        except ImageReferenceError as error:
            raise forms.ValidationError(error.message, code=error.code) from None
        return image.strip()

    def clean_service_account(self) -> str:
        return checked(
            validation.validate_subdomain, self.cleaned_data["service_account"] or "default", field="service_account"
        )


# --- Managed pull secrets -------------------------------------------------------------------------


def parsed_labels(text: str, *, field: str = "labels") -> dict[str, str]:
    """`key=value` lines, checked as Kubernetes checks labels."""
    labels: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, equals, value = line.strip().partition("=")
        if not equals:
            raise forms.ValidationError(f"Line {number} ({line.strip()}) is not key=value.", code="invalid")
        labels[key.strip()] = value.strip()
    return checked(validation.validate_labels, labels, field=field)


class ManagedSecretForm(StyledForm):
    """A managed pull secret's settings; its tenant and name only when it is created."""

    tenant = forms.ChoiceField(label="Tenant")
    name = forms.CharField(
        label="Secret name", max_length=253, widget=plain_text_input(), help_text="The copies' name in every namespace"
    )
    source_namespace = forms.CharField(
        label="Source namespace", widget=plain_text_input(), help_text="One of the tenant's namespaces"
    )
    source_name = forms.CharField(
        label="Source secret",
        widget=plain_text_input(),
        help_text="A kubernetes.io/dockerconfigjson secret there; Berth reads it and stores no password",
    )
    target_labels = forms.CharField(
        label="Only namespaces labelled",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One key=value per line; empty: every namespace of the tenant",
    )
    accounts = forms.ChoiceField(
        label="Link to", choices=ManagedPullSecret.ACCOUNT_MODES, widget=forms.RadioSelect, initial="default"
    )
    account_names = forms.CharField(
        label="Service accounts listed",
        required=False,
        widget=plain_text_input(),
        help_text="Comma-separated; also linked once created later",
    )
    drift_policy = forms.ChoiceField(
        label="A copy edited by hand",
        choices=ManagedPullSecret.DRIFT_POLICIES,
        widget=forms.RadioSelect,
        initial="report",
    )
    remove_departed = forms.BooleanField(
        label="Delete the copy from a namespace that leaves the target set", required=False
    )

    def __init__(self, *args: Any, tenants: list[str] | None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if tenants is None:  # changing: the tenant and name stay
            del self.fields["tenant"], self.fields["name"]
        else:
            cast(forms.ChoiceField, self.fields["tenant"]).choices = [(slug, slug) for slug in tenants]

    def clean_name(self) -> str:
        return checked(validation.validate_subdomain, self.cleaned_data["name"], field="name")

    def clean_source_namespace(self) -> str:
        return checked(validation.validate_namespace, self.cleaned_data["source_namespace"], field="source_namespace")

    def clean_source_name(self) -> str:
        return checked(validation.validate_subdomain, self.cleaned_data["source_name"], field="source_name")

    def clean_target_labels(self) -> dict[str, str]:
        return parsed_labels(self.cleaned_data["target_labels"], field="target_labels")

    def clean_account_names(self) -> list[str]:
        names = [name.strip() for name in self.cleaned_data["account_names"].split(",") if name.strip()]
        return checked(validation.validate_names, names, field="account_names")


class ManagedSecretDeleteForm(TypedNameConfirmForm):
    """Stopping to manage a secret keeps its copies unless asked to remove them too."""

    remove_copies = forms.BooleanField(
        label="Also delete the copies",
        required=False,
        help_text="Unlinks each copy from the service accounts that list it and deletes it from the tenant's "
        "namespaces, in the background. Pods already running keep their images; new pulls that need the secret fail.",
    )
    field_order = ["remove_copies", "confirm_name"]


class SourceCredentialsForm(CredentialsStepForm):
    """The wizard's credentials step (rows, config.json, Test login) for a managed secret's source,
    its rows prefilled with the source's registries and usernames."""

    def __init__(self, data=None, files=None, *, initial: dict | None = None):
        super().__init__(data, files if data is not None else None, rows=(initial or {}).get("rows"))


class WebhookForm(StyledForm):
    """A new webhook. Its URL, like its signing secret, is never written back into the page: a Slack-style
    URL carries a token in its path, so a form shown again after an error asks for both again."""

    name = forms.SlugField(label="Name", max_length=100, widget=plain_text_input())
    url = forms.CharField(
        label="URL",
        max_length=2048,
        strip=True,
        widget=SecretTextInput(attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "url"}),
        help_text="https:// (or http://). Only its scheme and host are shown again: the path may hold a token.",
    )
    secret = forms.CharField(
        label="Signing secret",
        min_length=16,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 16 characters; the HMAC-SHA256 key receivers check X-Berth-Signature with. "
        "Never shown again.",
    )
    tenant = forms.ChoiceField(label="Tenant", required=False, help_text="Empty: notifications of every tenant.")
    kinds = forms.MultipleChoiceField(
        label="Only these kinds",
        required=False,
        choices=Notification.KINDS,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every kind.",
    )

    def __init__(self, *args: Any, tenants: list[str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["tenant"]).choices = [("", "Every tenant")] + [
            (slug, slug) for slug in tenants
        ]
