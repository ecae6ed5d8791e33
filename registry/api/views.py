"""The registry API: each view validates its input, calls one service and serialises the result.

The cluster is chosen with `?cluster=` (the default cluster when omitted), as in the storage API.
"""

import json

from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from dashboard.core.api.base import BerthApiView, with_errors
from dashboard.core.api.serializers import ErrorSerializer
from dashboard.tenancy.services import tenant_get
from registry.api import serializers as s
from registry.models import KubeCluster
from registry.selectors import kube_cluster_get
from registry.services import credential_health, doctor, node_config, notifications, pull_check, secrets
from registry.services.registry_login import registry_login_test
from registry.throttles import LoginTestThrottle
from registry.validation import validate_namespace, validate_subdomain

CLUSTER = OpenApiParameter("cluster", str, description="Kubernetes cluster name; the default cluster if omitted")


class RegistryApi(BerthApiView):
    def cluster(self, request: Request) -> KubeCluster:
        return kube_cluster_get(actor=request.user, name=request.query_params.get("cluster"))

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if "namespace" in kwargs:
            validate_namespace(kwargs["namespace"])
        if "name" in kwargs:
            validate_subdomain(kwargs["name"], field="name")


class NamespaceListApi(RegistryApi):
    @extend_schema(parameters=[CLUSTER], responses=with_errors({200: s.NamespacesSerializer}))
    def get(self, request):
        return Response({"namespaces": secrets.namespace_list(actor=request.user, cluster=self.cluster(request))})


class ServiceAccountListApi(RegistryApi):
    @extend_schema(
        parameters=[CLUSTER],
        responses=with_errors({200: s.ServiceAccountsSerializer}),
        description="Service accounts of the namespace, to link secrets to.",
    )
    def get(self, request, namespace):
        return Response(
            {
                "service_accounts": secrets.service_account_list(
                    actor=request.user, cluster=self.cluster(request), namespace=namespace
                )
            }
        )


def _create_arguments(data: dict) -> dict:
    return {
        "name": data["name"],
        "credentials": data["credentials"],
        "secret_type": data["type"],
        "service_accounts": data["service_accounts"],
        "labels": data["labels"],
    }


# Endpoints that take a password or a config.json: an error report lists none of a form-encoded body's
# parameters (Django's reports show no JSON body).
takes_passwords = method_decorator(sensitive_post_parameters(), name="dispatch")


@takes_passwords
class SecretListApi(RegistryApi):
    @extend_schema(
        parameters=[CLUSTER],
        responses=with_errors({200: s.PullSecretSerializer(many=True)}),
        description="The namespace's image-pull secrets (dockerconfigjson and dockercfg only).",
    )
    def get(self, request, namespace):
        infos = secrets.secret_list(actor=request.user, cluster=self.cluster(request), namespace=namespace)
        return Response(s.PullSecretSerializer(infos, many=True).data)

    @extend_schema(
        parameters=[CLUSTER],
        request=s.SecretCreateSerializer,
        responses=with_errors({201: s.NamespaceResultSerializer}),
        description="Create the secret in this namespace (or bring an existing one of the same type up "
        "to date) and link it to the service accounts. 409 `not_linked` when the secret "
        "was written but a link failed.",
    )
    def post(self, request, namespace):
        data = self.valid(s.SecretCreateSerializer, request.data)
        [result] = secrets.secret_create(
            actor=request.user, cluster=self.cluster(request), namespaces=[namespace], **_create_arguments(data)
        )
        if result.error is not None:
            raise result.error
        return Response(s.NamespaceResultSerializer(result).data, status=status.HTTP_201_CREATED)


@takes_passwords
class SecretBulkCreateApi(RegistryApi):
    @extend_schema(
        parameters=[CLUSTER],
        request=s.BulkSecretCreateSerializer,
        responses=with_errors({200: s.SecretCreateResultSerializer}),
        description="Create the secret in several namespaces. Each namespace reports created, updated "
        "or failed with the reason; send the request again (e.g. with only the failed "
        "namespaces) to retry: it is idempotent.",
    )
    def post(self, request):
        data = self.valid(s.BulkSecretCreateSerializer, request.data)
        results = secrets.secret_create(
            actor=request.user, cluster=self.cluster(request), namespaces=data["namespaces"], **_create_arguments(data)
        )
        return Response(s.SecretCreateResultSerializer({"results": results, "notes": data["notes"]}).data)


class SecretDetailApi(RegistryApi):
    @extend_schema(parameters=[CLUSTER], responses=with_errors({200: s.PullSecretSerializer}))
    def get(self, request, namespace, name):
        info = secrets.secret_get(actor=request.user, cluster=self.cluster(request), namespace=namespace, name=name)
        return Response(s.PullSecretSerializer(info).data)

    @extend_schema(
        parameters=[CLUSTER],
        request=s.ConfirmSerializer,
        responses=with_errors({200: s.SecretDeleteResultSerializer}),
        description="Unlink the secret from every service account of the namespace, then delete it; "
        "confirm_name must repeat the secret's name.",
    )
    def delete(self, request, namespace, name):
        data = self.valid(s.ConfirmSerializer, request.data)
        result = secrets.secret_delete(
            actor=request.user,
            cluster=self.cluster(request),
            namespace=namespace,
            name=name,
            confirm_name=data["confirm_name"],
        )
        return Response(s.SecretDeleteResultSerializer(result).data)


@takes_passwords
class SecretRotateApi(RegistryApi):
    @extend_schema(
        parameters=[CLUSTER],
        request=s.RotateSerializer,
        responses=with_errors({200: s.PullSecretSerializer}),
        description="Set a new password for one registry of the secret; the other entries are kept.",
    )
    def post(self, request, namespace, name):
        data = self.valid(s.RotateSerializer, request.data)
        info = secrets.secret_rotate(
            actor=request.user,
            cluster=self.cluster(request),
            namespace=namespace,
            name=name,
            server=data["server"],
            password=data["password"],
        )
        return Response(s.PullSecretSerializer(info).data)


@takes_passwords
class SecretEntriesApi(RegistryApi):
    @extend_schema(
        parameters=[CLUSTER],
        request=s.RegistryLoginSerializer,
        responses=with_errors({200: s.PullSecretSerializer}),
        description="Add a registry login.",
    )
    def post(self, request, namespace, name):
        data = self.valid(s.RegistryLoginSerializer, request.data)
        credential = data["credential"]
        info = secrets.secret_add_entry(
            actor=request.user,
            cluster=self.cluster(request),
            namespace=namespace,
            name=name,
            server=credential.server,
            username=credential.username,
            password=credential.password,
            email=credential.email,
        )
        return Response(s.PullSecretSerializer(info).data)

    @extend_schema(
        parameters=[CLUSTER],
        request=s.EntryRemoveSerializer,
        responses=with_errors({200: s.PullSecretSerializer}),
        description="Remove a registry's login (every spelling of that server).",
    )
    def delete(self, request, namespace, name):
        data = self.valid(s.EntryRemoveSerializer, request.data)
        info = secrets.secret_remove_entry(
            actor=request.user, cluster=self.cluster(request), namespace=namespace, name=name, server=data["server"]
        )
        return Response(s.PullSecretSerializer(info).data)


class SecretLinkApi(RegistryApi):
    @extend_schema(
        parameters=[CLUSTER],
        request=s.ServiceAccountsSerializer,
        responses=with_errors({200: s.PullSecretSerializer}),
        description="Add the secret to these service accounts' imagePullSecrets (others are kept).",
    )
    def post(self, request, namespace, name):
        data = self.valid(s.ServiceAccountsSerializer, request.data)
        info = secrets.secret_link(
            actor=request.user,
            cluster=self.cluster(request),
            namespace=namespace,
            name=name,
            service_accounts=data["service_accounts"],
        )
        return Response(s.PullSecretSerializer(info).data)


class SecretUnlinkApi(RegistryApi):
    @extend_schema(
        parameters=[CLUSTER],
        request=s.ServiceAccountsSerializer,
        responses=with_errors({200: s.PullSecretSerializer}),
        description="Remove the secret from these service accounts' imagePullSecrets.",
    )
    def post(self, request, namespace, name):
        data = self.valid(s.ServiceAccountsSerializer, request.data)
        info = secrets.secret_unlink(
            actor=request.user,
            cluster=self.cluster(request),
            namespace=namespace,
            name=name,
            service_accounts=data["service_accounts"],
        )
        return Response(s.PullSecretSerializer(info).data)


class DoctorApi(RegistryApi):
    @extend_schema(
        parameters=[CLUSTER],
        responses=with_errors({200: s.PodDiagnosisSerializer(many=True)}),
        description="Pods whose containers wait in ErrImagePull or ImagePullBackOff, with their events "
        "and which pull secret entry matches each image, or why none does.",
    )
    def get(self, request, namespace):
        diagnoses = doctor.pull_doctor(actor=request.user, cluster=self.cluster(request), namespace=namespace)
        return Response(s.PodDiagnosisSerializer(diagnoses, many=True).data)


class DoctorImageApi(RegistryApi):
    @extend_schema(
        parameters=[
            CLUSTER,
            OpenApiParameter("image", str, required=True),
            OpenApiParameter("service_account", str, description="default if omitted"),
        ],
        responses=with_errors({200: s.ImageDiagnosisSerializer}),
        description="Which secret entry a new pod running this image as this service account would use.",
    )
    def get(self, request, namespace):
        diagnosis = doctor.pull_doctor_for_image(
            actor=request.user,
            cluster=self.cluster(request),
            namespace=namespace,
            image=request.query_params.get("image", ""),
            service_account=request.query_params.get("service_account") or "default",
        )
        return Response(s.ImageDiagnosisSerializer(diagnosis).data)


class PullCheckApi(RegistryApi):
    throttle_classes = [LoginTestThrottle]

    @extend_schema(
        parameters=[
            CLUSTER,
            OpenApiParameter("image", str, required=True),
            OpenApiParameter("service_account", str, description="default if omitted"),
        ],
        responses=with_errors({200: s.PullCheckSerializer, 429: ErrorSerializer}),
        description="May a new pod running this image as this service account pull it? A manifest HEAD with "
        "the credentials the kubelet would choose, telling apart a failing login, a login without pull "
        "permission on the repository, a missing tag or manifest, and TLS or network errors. Changes "
        "nothing; needs the operator role and counts against the per-user Test login rate.",
    )
    def get(self, request, namespace):
        check = pull_check.pull_check(
            actor=request.user,
            cluster=self.cluster(request),
            namespace=namespace,
            image=request.query_params.get("image", ""),
            service_account=request.query_params.get("service_account") or "default",
        )
        return Response(s.PullCheckSerializer(check).data)


@takes_passwords
class TestLoginApi(RegistryApi):
    throttle_classes = [LoginTestThrottle]

    @extend_schema(
        request=s.TestLoginSerializer,
        responses=with_errors({200: s.LoginResultSerializer, 429: ErrorSerializer}),
        description="Try a login against a registry's API (as `docker login` does); changes nothing. "
        "Every answer of the registry, wrong credentials included, is a 200 with `outcome`. "
        "Needs the operator role in a tenant; 403 when the server or its token service is "
        "at an address Berth does not connect to (not public and not allowed), 429 past the "
        "per-user rate.",
    )
    def post(self, request):
        data = self.valid(s.TestLoginSerializer, request.data)
        result = registry_login_test(
            actor=request.user, server=data["server"], username=data["username"], password=data["password"]
        )
        return Response(s.LoginResultSerializer(result).data)


class CredentialHealthListApi(RegistryApi):
    @extend_schema(
        parameters=[CLUSTER, OpenApiParameter("failing", bool, description="only entries whose last check failed")],
        responses=with_errors({200: s.CredentialHealthSerializer(many=True)}),
        description="The last Test login of every pull secret entry in the namespaces you may see (every "
        "namespace for platform admins), as the periodic credential health check recorded it.",
    )
    def get(self, request):
        rows = credential_health.credential_health_list(
            actor=request.user,
            cluster=self.cluster(request),
            failing_only=request.query_params.get("failing") in ("1", "true"),
        )
        return Response(s.CredentialHealthSerializer(rows, many=True).data)


class NamespaceCredentialHealthApi(RegistryApi):
    @extend_schema(parameters=[CLUSTER], responses=with_errors({200: s.CredentialHealthSerializer(many=True)}))
    def get(self, request, namespace):
        rows = credential_health.credential_health_list(
            actor=request.user, cluster=self.cluster(request), namespace=namespace
        )
        return Response(s.CredentialHealthSerializer(rows, many=True).data)


class CredentialCheckApi(RegistryApi):
    throttle_classes = [LoginTestThrottle]

    @extend_schema(
        parameters=[CLUSTER],
        request=None,
        responses=with_errors({200: s.CredentialHealthSerializer(many=True), 429: ErrorSerializer}),
        description="Test-login with every entry of the secret now and record the outcomes. Needs the operator "
        "role; counts against the per-user Test login rate.",
    )
    def post(self, request, namespace, name):
        rows = credential_health.credential_health_check_now(
            actor=request.user, cluster=self.cluster(request), namespace=namespace, name=name
        )
        return Response(s.CredentialHealthSerializer(rows, many=True).data)


class CredentialExpiryApi(RegistryApi):
    @extend_schema(
        parameters=[CLUSTER],
        request=s.CredentialExpirySerializer,
        responses=with_errors({200: s.CredentialHealthSerializer}),
        description="Record when an entry's credential expires (a robot account's expiry date); a warning "
        "goes out BERTH_CREDENTIAL_EXPIRY_WARNING_DAYS ahead. Needs the operator role.",
    )
    def post(self, request, namespace, name):
        data = self.valid(s.CredentialExpirySerializer, request.data)
        row = credential_health.credential_expiry_set(
            actor=request.user, cluster=self.cluster(request), namespace=namespace, name=name, **data
        )
        return Response(s.CredentialHealthSerializer(row).data)


class NotificationListApi(RegistryApi):
    @extend_schema(
        parameters=[OpenApiParameter("all", bool, description="dismissed ones too")],
        responses=with_errors({200: s.NotificationSerializer(many=True)}),
        description="Notifications about pull secrets: a tenant's admins see their tenants', platform admins all.",
    )
    def get(self, request):
        rows = notifications.notification_list(
            actor=request.user, include_dismissed=request.query_params.get("all") in ("1", "true")
        )
        return Response(s.NotificationSerializer(rows, many=True).data)


class NotificationDismissApi(RegistryApi):
    @extend_schema(request=None, responses=with_errors({200: s.NotificationSerializer}))
    def post(self, request, notification_id):
        row = notifications.notification_dismiss(actor=request.user, notification_id=notification_id)
        return Response(s.NotificationSerializer(row).data)


@takes_passwords
class WebhookListApi(RegistryApi):
    @extend_schema(responses=with_errors({200: s.WebhookSerializer(many=True)}), description="Platform admins.")
    def get(self, request):
        return Response(s.WebhookSerializer(notifications.webhook_list(actor=request.user), many=True).data)

    @extend_schema(
        request=s.WebhookCreateSerializer,
        responses=with_errors({201: s.WebhookSerializer}),
        description="Send notifications to this URL as signed JSON with a Slack-compatible `text` "
        "(X-Berth-Signature: sha256=HMAC-SHA256(secret, X-Berth-Timestamp + '.' + body)). Platform admins.",
    )
    def post(self, request):
        data = self.valid(s.WebhookCreateSerializer, request.data)
        tenant = tenant_get(actor=request.user, slug=data["tenant"]) if data["tenant"] else None
        webhook = notifications.webhook_create(
            actor=request.user,
            name=data["name"],
            url=data["url"],
            secret=data["secret"],
            tenant=tenant,
            kinds=data["kinds"],
        )
        return Response(s.WebhookSerializer(webhook).data, status=status.HTTP_201_CREATED)


class WebhookDetailApi(RegistryApi):
    @extend_schema(
        operation_id="registry_webhooks_deliveries",
        responses=with_errors({200: s.WebhookDeliverySerializer(many=True)}),
        description="The webhook's deliveries, newest first: each attempt's outcome and when the next is due.",
    )
    def get(self, request, webhook):
        rows = notifications.webhook_deliveries(actor=request.user, name=webhook)
        return Response(s.WebhookDeliverySerializer(rows, many=True).data)

    @extend_schema(request=None, responses=with_errors({204: None}))
    def delete(self, request, webhook):
        notifications.webhook_delete(actor=request.user, name=webhook)
        return Response(status=status.HTTP_204_NO_CONTENT)


@takes_passwords
class NodeConfigApi(RegistryApi):
    @extend_schema(
        request=s.NodeConfigRequestSerializer,
        responses=with_errors({200: s.NodeConfigSerializer}),
        description="A kubelet config.json (for /var/lib/kubelet/config.json) holding these logins, in this "
        "response only (Cache-Control: no-store; Berth keeps nothing). Every pod on the nodes that get it may "
        "pull with it. Needs the operator role in a tenant.",
    )
    def post(self, request):
        data = self.valid(s.NodeConfigRequestSerializer, request.data)
        credentials = [login["credential"] for login in data["registries"]]
        built = node_config.node_config_build(
            actor=request.user,
            credentials=credentials,
            servers=[credential.server for credential in credentials],
            usernames=[credential.username for credential in credentials],
        )
        response = Response(
            s.NodeConfigSerializer(
                {
                    "install_path": built.install_path,
                    "alternatives": built.alternatives,
                    "warning": built.warning,
                    "servers": built.servers,
                    "config": json.loads(built.document),
                }
            ).data
        )
        response["Cache-Control"] = "no-store"
        return response
