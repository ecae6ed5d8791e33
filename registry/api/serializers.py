"""Request and response shapes of the registry API.

Passwords (and pasted config.json documents, which hold them) are write-only: no response
serializer has a field that could carry one. Field rules come from registry/validation.py and
registry/dockerconfig.py, so the API refuses what the services refuse, in the same words.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from dashboard.core.api.serializers import ErrorSerializer, validated_by
from registry import validation
from registry.dockerconfig import (
    ConfigFormat,
    Credential,
    DockerConfigError,
    logins_for_secret,
    parse_config,
    parse_server,
)
from registry.services.notifications import destination

SECRET_TYPES = [config_format.secret_type for config_format in ConfigFormat]


class PasswordField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.update(write_only=True, trim_whitespace=False, style={"input_type": "password"})
        super().__init__(**kwargs)


class SubdomainField(serializers.CharField):
    """Secret and service-account names (DNS-1123 subdomains)."""

    def to_internal_value(self, data):
        return validated_by(validation.validate_subdomain, super().to_internal_value(data), field=self.field_name)


class NamespaceNameField(serializers.CharField):
    def to_internal_value(self, data):
        return validated_by(validation.validate_namespace, super().to_internal_value(data), field="namespace")


class RegistryLoginSerializer(serializers.Serializer):
    server = serializers.CharField(allow_blank=True, default="", help_text="host[:port][/path]; empty means Docker Hub")
    username = serializers.CharField(trim_whitespace=False)
    password = PasswordField()
    email = serializers.CharField(required=False, allow_blank=True, default="")

    def validate(self, attrs):
        try:
            attrs["credential"] = Credential(
                server=attrs["server"],
                username=attrs["username"],
                password=attrs["password"],
                email=attrs["email"] or None,
            )
        except DockerConfigError as error:
            raise serializers.ValidationError({error.field or "server": error.message}) from None
        return attrs


class LoginsSerializer(serializers.Serializer):
    """Registry logins typed one by one and/or as a config.json, as the wizard's credentials step takes them."""

    registries = RegistryLoginSerializer(many=True, required=False, default=list)
    config_json = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        write_only=True,
        trim_whitespace=False,
        style={"base_template": "textarea.html"},
        help_text="A pasted or uploaded ~/.docker/config.json (or legacy .dockercfg); its logins are added to "
        "`registries` (a registry given in both takes the login from `registries`)",
    )

    def validate(self, attrs):
        parsed = None
        if attrs["config_json"]:
            try:
                parsed = parse_config(attrs["config_json"])
            except DockerConfigError as error:
                raise serializers.ValidationError({"config_json": error.message}) from None
        try:
            logins = logins_for_secret(parsed, [login["credential"] for login in attrs["registries"]])
        except DockerConfigError as error:
            raise serializers.ValidationError({"registries": error.message}) from None
        attrs["credentials"], attrs["notes"] = list(logins.credentials), list(logins.notes)
        return attrs


class SecretCreateSerializer(LoginsSerializer):
    name = SubdomainField()
    type = serializers.ChoiceField(choices=SECRET_TYPES, default=ConfigFormat.DOCKERCONFIGJSON.secret_type)
    service_accounts = serializers.ListField(child=SubdomainField(), default=["default"])
    labels = serializers.DictField(child=serializers.CharField(allow_blank=True), default=dict)

    def validate_labels(self, labels):
        return validated_by(validation.validate_labels, labels)


class BulkSecretCreateSerializer(SecretCreateSerializer):
    namespaces = serializers.ListField(child=NamespaceNameField(), allow_empty=False)


class RotateSerializer(serializers.Serializer):
    server = serializers.CharField(allow_blank=True, help_text="The registry whose password changes")
    password = PasswordField()


class EntryRemoveSerializer(serializers.Serializer):
    server = serializers.CharField(allow_blank=True)


class ServiceAccountsSerializer(serializers.Serializer):
    service_accounts = serializers.ListField(child=SubdomainField(), allow_empty=False)


class ConfirmSerializer(serializers.Serializer):
    confirm_name = serializers.CharField(help_text="The secret's name, typed again")


class TestLoginSerializer(serializers.Serializer):
    server = serializers.CharField(allow_blank=True, default="")
    username = serializers.CharField(trim_whitespace=False)
    password = PasswordField()

    def validate_server(self, server):
        # Before the service, whose audit event records the server: one typed as user:password@host is refused here.
        try:
            parse_server(server)
        except DockerConfigError as error:
            raise serializers.ValidationError(error.message) from None
        return server


# --- responses ------------------------------------------------------------------------------


class NamespacesSerializer(serializers.Serializer):
    namespaces = serializers.ListField(child=serializers.CharField())


class EntrySerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The registry key as written in the secret")
    server = serializers.CharField()
    username = serializers.CharField()
    email = serializers.CharField(allow_null=True)
    has_password = serializers.BooleanField()
    problem = serializers.CharField(allow_null=True)


class PullSecretSerializer(serializers.Serializer):
    cluster = serializers.CharField()
    namespace = serializers.CharField()
    name = serializers.CharField()
    type = serializers.CharField()
    entries = EntrySerializer(many=True)
    service_accounts = serializers.ListField(child=serializers.CharField())
    pods = serializers.ListField(child=serializers.CharField())
    labels = serializers.DictField(child=serializers.CharField())
    created = serializers.DateTimeField(allow_null=True)
    managed_by_berth = serializers.BooleanField()
    problem = serializers.CharField(allow_null=True)


class NamespaceResultSerializer(serializers.Serializer):
    namespace = serializers.CharField()
    outcome = serializers.ChoiceField(choices=["created", "updated", "failed"])
    message = serializers.CharField()
    linked = serializers.ListField(child=serializers.CharField())
    not_linked = serializers.ListField(child=serializers.CharField())
    error = serializers.SerializerMethodField()
    secret = PullSecretSerializer(allow_null=True)

    @extend_schema_field(ErrorSerializer(allow_null=True))
    def get_error(self, result):
        if result.error is None:
            return None
        return {"code": result.error.code, "detail": result.error.message, "component": result.error.component}


class SecretCreateResultSerializer(serializers.Serializer):
    results = NamespaceResultSerializer(many=True)
    notes = serializers.ListField(
        child=serializers.CharField(), help_text="What was read differently from the config_json, or skipped"
    )


class SecretDeleteResultSerializer(serializers.Serializer):
    namespace = serializers.CharField()
    name = serializers.CharField()
    unlinked = serializers.ListField(child=serializers.CharField())
    pods_still_referencing = serializers.ListField(child=serializers.CharField())


class EventSerializer(serializers.Serializer):
    type = serializers.CharField()
    reason = serializers.CharField()
    message = serializers.CharField()
    count = serializers.IntegerField()
    last_seen = serializers.DateTimeField(allow_null=True)


class SecretConsideredSerializer(serializers.Serializer):
    name = serializers.CharField()
    # DRF's serializer metaclass moves declared fields off the class, so this does not shadow Field.source.
    source = serializers.ChoiceField(choices=["pod", "service account"])  # type: ignore[assignment]
    status = serializers.ChoiceField(choices=["ok", "missing", "not a pull secret", "unreadable"])
    detail = serializers.CharField()


class CredentialVerdictSerializer(serializers.Serializer):
    secret = serializers.CharField()
    server = serializers.CharField()
    username = serializers.CharField()
    reason = serializers.CharField()


class ImageDiagnosisSerializer(serializers.Serializer):
    image = serializers.CharField()
    service_account = serializers.CharField()
    secrets = SecretConsideredSerializer(many=True)
    match = CredentialVerdictSerializer(allow_null=True, help_text="The entry the kubelet tries first")
    used = CredentialVerdictSerializer(many=True)
    not_used = CredentialVerdictSerializer(many=True)
    findings = serializers.ListField(child=serializers.CharField())


class ContainerDiagnosisSerializer(serializers.Serializer):
    container = serializers.CharField()
    image = serializers.CharField()
    reason = serializers.CharField()
    message = serializers.CharField()
    diagnosis = ImageDiagnosisSerializer(allow_null=True)
    problem = serializers.CharField(allow_null=True)


class PodDiagnosisSerializer(serializers.Serializer):
    pod = serializers.CharField()
    namespace = serializers.CharField()
    service_account = serializers.CharField()
    containers = ContainerDiagnosisSerializer(many=True)
    events = EventSerializer(many=True)


class LoginResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    outcome = serializers.CharField(source="outcome.value")
    message = serializers.CharField()
    endpoint = serializers.CharField()
    auth_scheme = serializers.CharField(allow_null=True)


class CredentialHealthSerializer(serializers.Serializer):
    namespace = serializers.CharField()
    secret = serializers.CharField(source="secret_name")
    registry = serializers.CharField()
    username = serializers.CharField()
    tenant = serializers.CharField(source="tenant.slug", allow_null=True, default=None)
    last_checked = serializers.DateTimeField(allow_null=True)
    last_outcome = serializers.CharField(help_text="ok, wrong_credentials, unreachable, tls_error, ... empty before")
    failing = serializers.BooleanField()
    last_success = serializers.DateTimeField(allow_null=True)
    last_failure = serializers.DateTimeField(allow_null=True)
    last_failure_reason = serializers.CharField()
    expires_on = serializers.DateField(allow_null=True)


class CredentialExpirySerializer(serializers.Serializer):
    registry = serializers.CharField(help_text="The entry's key, as the secret has it")
    expires_on = serializers.DateField(allow_null=True, help_text="null clears it")


class PullAttemptSerializer(serializers.Serializer):
    secret = serializers.CharField(allow_null=True, help_text="null: pulled without credentials")
    server = serializers.CharField(allow_null=True)
    username = serializers.CharField(allow_null=True)
    outcome = serializers.CharField(source="outcome.value")
    message = serializers.CharField()


class PullCheckSerializer(serializers.Serializer):
    image = serializers.CharField()
    outcome = serializers.CharField(
        source="outcome.value",
        help_text="ok, login_failed, no_pull_permission, credentials_needed, manifest_missing, tls_error, "
        "unreachable or unexpected_response",
    )
    message = serializers.CharField()
    attempts = PullAttemptSerializer(many=True)
    notes = serializers.ListField(child=serializers.CharField())
    diagnosis = ImageDiagnosisSerializer()


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    tenant = serializers.CharField(source="tenant.slug", allow_null=True, default=None)
    kind = serializers.CharField()
    text = serializers.CharField()
    details = serializers.DictField()
    created = serializers.DateTimeField()
    dismissed = serializers.DateTimeField(allow_null=True)


class WebhookCreateSerializer(serializers.Serializer):
    name = serializers.SlugField(max_length=100)
    url = serializers.CharField(max_length=2048, help_text="http(s) only", write_only=True)
    secret = PasswordField(min_length=16, help_text="The HMAC-SHA256 signing key; never shown again")
    tenant = serializers.SlugField(required=False, allow_null=True, default=None, help_text="only this tenant's")
    kinds = serializers.ListField(child=serializers.CharField(), required=False, default=list)


class WebhookSerializer(serializers.Serializer):
    name = serializers.CharField()
    destination = serializers.SerializerMethodField(help_text="Scheme and host; the path may hold a token")
    tenant = serializers.CharField(source="tenant.slug", allow_null=True, default=None)
    kinds = serializers.ListField(child=serializers.CharField())
    enabled = serializers.BooleanField()
    created = serializers.DateTimeField()

    def get_destination(self, webhook) -> str:
        return destination(webhook.url)


class WebhookDeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    notification = serializers.IntegerField(source="notification_id")
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    attempt_log = serializers.ListField(child=serializers.DictField())
    next_attempt = serializers.DateTimeField(allow_null=True)
    delivered = serializers.DateTimeField(allow_null=True)


class NodeConfigRequestSerializer(serializers.Serializer):
    registries = RegistryLoginSerializer(many=True)


class NodeConfigSerializer(serializers.Serializer):
    filename = serializers.CharField(default="config.json")
    install_path = serializers.CharField()
    alternatives = serializers.ListField(child=serializers.CharField())
    warning = serializers.CharField()
    servers = serializers.ListField(child=serializers.CharField())
    config = serializers.DictField(help_text="The file's content: holds the passwords; the response is not stored")
