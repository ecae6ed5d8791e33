"""The managed pull secrets API (registry/services/managed.py): a tenant's secret kept in all its
namespaces, addressed by tenant and name; its fleet state, "repair now", adopt and rotation."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from dashboard.core.api.base import with_errors
from dashboard.core.api.serializers import validated_by
from dashboard.tasks.api.serializers import BackgroundTaskSerializer
from dashboard.tenancy import services as tenancy
from registry import validation
from registry.api.serializers import LoginsSerializer, NamespaceNameField, SubdomainField
from registry.api.views import RegistryApi, takes_passwords
from registry.models import ManagedPullSecret
from registry.services import managed as service

TASK_ACCEPTED = OpenApiResponse(BackgroundTaskSerializer, description="Started in the background; poll the task")
TENANT = OpenApiParameter("tenant", str, description="Only this tenant's (its slug)")


class ManagedSecretSettingsSerializer(serializers.Serializer):
    # Plain fields checked in validate_<field>, so a bad value is reported under its own name (the shared
    # NamespaceNameField says "namespace", and a list's SubdomainField items have no name at all).
    source_namespace = serializers.CharField(help_text="A namespace of the tenant's registry quota")
    source_name = SubdomainField(help_text="A kubernetes.io/dockerconfigjson secret there; read, never stored")
    target_labels = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        default=dict,
        help_text="Only the tenant's namespaces with all these labels; empty: all of them",
    )
    accounts = serializers.ChoiceField(
        choices=ManagedPullSecret.ACCOUNT_MODES, default=ManagedPullSecret.DEFAULT_ACCOUNT
    )
    account_names = serializers.ListField(
        child=serializers.CharField(), default=list, help_text="Service account names, when accounts is list"
    )
    drift_policy = serializers.ChoiceField(choices=ManagedPullSecret.DRIFT_POLICIES, default=ManagedPullSecret.REPORT)
    remove_departed = serializers.BooleanField(
        default=False, help_text="Delete the copy from a namespace that leaves the target set"
    )

    def validate_source_namespace(self, namespace):
        return validated_by(validation.validate_namespace, namespace, field="source_namespace")

    def validate_account_names(self, names):
        return validated_by(validation.validate_names, names, field="account_names")

    def validate_target_labels(self, labels):
        return validated_by(validation.validate_labels, labels, field="target_labels")


class ManagedSecretCreateSerializer(ManagedSecretSettingsSerializer):
    name = SubdomainField(help_text="The copies' name in every namespace")


class ManagedSecretSerializer(serializers.Serializer):
    tenant = serializers.CharField(source="tenant.slug")
    name = serializers.CharField()
    uid = serializers.UUIDField(help_text="The value of the copies' berth.io/managed-pull-secret label")
    source_namespace = serializers.CharField()
    source_name = serializers.CharField()
    target_labels = serializers.DictField(child=serializers.CharField())
    accounts = serializers.CharField()
    account_names = serializers.ListField(child=serializers.CharField())
    drift_policy = serializers.CharField()
    remove_departed = serializers.BooleanField()
    created = serializers.DateTimeField()
    last_reconciled = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField()


class NamespaceStateSerializer(serializers.Serializer):
    namespace = serializers.CharField()
    state = serializers.ChoiceField(choices=[state.value for state in service.State])
    unlinked = serializers.ListField(child=serializers.CharField(), help_text="Chosen accounts not linked to it")


class FleetSerializer(serializers.Serializer):
    managed_secret = ManagedSecretSerializer(source="managed")
    cluster = serializers.CharField()
    registries = serializers.ListField(child=serializers.CharField(), help_text="The registries in the source")
    in_sync = serializers.BooleanField()
    namespaces = NamespaceStateSerializer(many=True)
    api_calls = serializers.IntegerField(help_text="Requests to the API server this answer took")
    task = BackgroundTaskSerializer(allow_null=True, help_text="The latest reconcile started on demand or by a change")


class AdoptSerializer(serializers.Serializer):
    namespace = NamespaceNameField()


class ManagedSecretDeleteSerializer(serializers.Serializer):
    confirm_name = serializers.CharField(help_text="The managed secret's name, typed again")
    remove_copies = serializers.BooleanField(
        default=False,
        help_text="Also unlink the copies from their service accounts and delete them from the tenant's namespaces "
        "(in the background); by default they stay",
    )


class ManagedSecretListApi(RegistryApi):
    @extend_schema(responses=with_errors({200: ManagedSecretSerializer(many=True)}))
    def get(self, request, tenant):
        owner = tenancy.tenant_get(actor=request.user, slug=tenant)
        found = service.managed_secret_list(actor=request.user, tenant=owner)
        return Response(ManagedSecretSerializer(found, many=True).data)

    @extend_schema(
        request=ManagedSecretCreateSerializer,
        responses=with_errors({201: ManagedSecretSerializer}),
        description="Keep the source's content as a secret of this name in the tenant's namespaces (tenant "
        "admins); the first reconcile starts at once.",
    )
    def post(self, request, tenant):
        data = self.valid(ManagedSecretCreateSerializer, request.data)
        owner = tenancy.tenant_get(actor=request.user, slug=tenant)
        managed = service.managed_secret_create(actor=request.user, tenant=owner, **data)
        return Response(ManagedSecretSerializer(managed).data, status=status.HTTP_201_CREATED)


class ManagedSecretMixin:
    def managed(self, request, tenant: str, name: str) -> ManagedPullSecret:
        return service.managed_secret_get(actor=request.user, tenant=tenant, name=name)


class ManagedSecretDetailApi(ManagedSecretMixin, RegistryApi):
    @extend_schema(responses=with_errors({200: ManagedSecretSerializer}))
    def get(self, request, tenant, name):
        return Response(ManagedSecretSerializer(self.managed(request, tenant, name)).data)

    @extend_schema(
        request=ManagedSecretSettingsSerializer,
        responses=with_errors({200: ManagedSecretSerializer}),
        description="Change everything but the name (tenant admins); a reconcile follows.",
    )
    def put(self, request, tenant, name):
        data = self.valid(ManagedSecretSettingsSerializer, request.data)
        managed = service.managed_secret_update(actor=request.user, managed=self.managed(request, tenant, name), **data)
        return Response(ManagedSecretSerializer(managed).data)

    @extend_schema(
        request=ManagedSecretDeleteSerializer,
        responses=with_errors({202: TASK_ACCEPTED, 204: None}),
        description="Stop managing it (tenant admins). The copies stay, no longer kept by Berth (204), unless "
        "remove_copies asks for a background task that unlinks and deletes them (202).",
    )
    def delete(self, request, tenant, name):
        data = self.valid(ManagedSecretDeleteSerializer, request.data)
        task = service.managed_secret_delete(actor=request.user, managed=self.managed(request, tenant, name), **data)
        if task is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(BackgroundTaskSerializer(task).data, status=status.HTTP_202_ACCEPTED)


class ManagedSecretStateApi(ManagedSecretMixin, RegistryApi):
    @extend_schema(
        responses=with_errors({200: FleetSerializer}),
        description="Every target namespace's state as Kubernetes has it now: in sync, missing, outdated (follows "
        "the source at the next reconcile), differs (edited by hand), not linked, opted out, unmanaged (a secret "
        "of that name Berth did not write) or departed.",
    )
    def get(self, request, tenant, name):
        fleet = service.managed_secret_fleet(actor=request.user, managed=self.managed(request, tenant, name))
        return Response(FleetSerializer(fleet).data)


class ManagedSecretRepairApi(ManagedSecretMixin, RegistryApi):
    @extend_schema(
        request=None,
        responses=with_errors({202: TASK_ACCEPTED}),
        description="Reconcile now, repairing hand-edited copies whatever the drift policy (tenant operators).",
    )
    def post(self, request, tenant, name):
        task = service.managed_secret_repair(actor=request.user, managed=self.managed(request, tenant, name))
        return Response(BackgroundTaskSerializer(task).data, status=status.HTTP_202_ACCEPTED)


class ManagedSecretAdoptApi(ManagedSecretMixin, RegistryApi):
    @extend_schema(
        request=AdoptSerializer,
        responses=with_errors({200: NamespaceStateSerializer}),
        description="Replace the same-named secret Berth did not write in the namespace with the managed copy "
        "(tenant admins).",
    )
    def post(self, request, tenant, name):
        data = self.valid(AdoptSerializer, request.data)
        state = service.managed_secret_adopt(
            actor=request.user, managed=self.managed(request, tenant, name), namespace=data["namespace"]
        )
        return Response(NamespaceStateSerializer(state).data)


@takes_passwords
class ManagedSecretRotateApi(ManagedSecretMixin, RegistryApi):
    @extend_schema(
        request=LoginsSerializer,
        responses=with_errors({202: TASK_ACCEPTED}),
        description="Write these logins into the source (its whole content; tenant operators); every copy follows "
        "in the reconcile this starts.",
    )
    def post(self, request, tenant, name):
        data = self.valid(LoginsSerializer, request.data)
        task = service.managed_secret_rotate(
            actor=request.user, managed=self.managed(request, tenant, name), credentials=data["credentials"]
        )
        return Response(BackgroundTaskSerializer(task).data, status=status.HTTP_202_ACCEPTED)
