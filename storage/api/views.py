"""The storage API: each view validates its input, calls one service and serialises the result.

Operations that run in the background answer 202 with the task; poll the task (dashboard/tasks/api).

Every method addresses an image, snapshot or trash entry the same way: the pool and the names in the
path, the cluster and the RBD namespace in the query string (`?cluster=`, `?namespace=`). The body
says what to do, never which object: a DELETE of the URL a GET has shown acts on what the GET showed.
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from dashboard.core.api.base import BerthApiView, with_errors
from dashboard.core.errors import InvalidInput
from dashboard.tasks.api.serializers import BackgroundTaskSerializer
from storage.api import serializers as s
from storage.models import CephCluster
from storage.selectors import ceph_cluster_get
from storage.services import (
    features,
    images,
    metadata,
    namespaces,
    pools,
    qos,
    snapshot_schedules,
    snapshots,
    trash,
    usage,
)
from storage.validation import validate_namespace, validate_object_name

CLUSTER = OpenApiParameter("cluster", str, description="Cluster name; the default cluster if omitted")
NAMESPACE = OpenApiParameter(
    "namespace",
    str,
    description="RBD namespace of the image (or trash); the pool's default namespace if omitted. "
    "Read from here for every method, never from the body.",
)
TASK_ACCEPTED = OpenApiResponse(BackgroundTaskSerializer, description="Started in the background; poll the task")


class StorageApi(BerthApiView):
    def cluster(self, request: Request) -> CephCluster:
        return ceph_cluster_get(actor=request.user, name=request.query_params.get("cluster"))

    def namespace(self, request: Request) -> str:
        return validate_namespace(request.query_params.get("namespace", ""))

    def place(self, request: Request, pool: str) -> dict[str, Any]:
        """The service arguments naming who acts where: the cluster and RBD namespace from the query string."""
        return {
            "actor": request.user,
            "cluster": self.cluster(request),
            "pool": pool,
            "namespace": self.namespace(request),
        }

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        for field in ("pool", "name", "snapshot"):
            if field in kwargs:
                validate_object_name(kwargs[field], field=field)
        # Before API v1 PATCH, DELETE and POST read the namespace from the body. Ignoring it now would
        # send an old client's request to the pool's default namespace, a different image of that name.
        if isinstance(request.data, Mapping) and "namespace" in request.data:
            raise InvalidInput(
                "namespace: the RBD namespace is not read from the request body; give it in the query string "
                "(?namespace=<name>) for every method, as for GET.",
                code="namespace_in_body",
                extra={"field": "namespace"},
            )


def _task_response(task) -> Response:
    return Response(BackgroundTaskSerializer(task).data, status=status.HTTP_202_ACCEPTED)


class PoolListApi(StorageApi):
    @extend_schema(parameters=[CLUSTER], responses=with_errors({200: s.PoolSerializer(many=True)}))
    def get(self, request):
        return Response(
            s.PoolSerializer(pools.pool_list(actor=request.user, cluster=self.cluster(request)), many=True).data
        )

    @extend_schema(parameters=[CLUSTER], request=s.PoolCreateSerializer, responses=with_errors({201: s.PoolSerializer}))
    def post(self, request):
        data = self.valid(s.PoolCreateSerializer, request.data)
        pool = pools.pool_create(actor=request.user, cluster=self.cluster(request), **data)
        return Response(s.PoolSerializer(pool).data, status=status.HTTP_201_CREATED)


class PoolDetailApi(StorageApi):
    @extend_schema(parameters=[CLUSTER], responses=with_errors({200: s.PoolSerializer}))
    def get(self, request, pool):
        return Response(
            s.PoolSerializer(pools.pool_get(actor=request.user, cluster=self.cluster(request), name=pool)).data
        )

    @extend_schema(
        parameters=[CLUSTER],
        request=s.PoolQuotaSerializer,
        responses=with_errors({200: s.PoolSerializer}),
        description="Set or clear the pool's quota (0 or null clears).",
    )
    def patch(self, request, pool):
        data = self.valid(s.PoolQuotaSerializer, request.data)
        info = pools.pool_set_quota(actor=request.user, cluster=self.cluster(request), name=pool, **data)
        return Response(s.PoolSerializer(info).data)

    @extend_schema(
        parameters=[CLUSTER],
        request=s.ConfirmSerializer,
        responses=with_errors({204: None}),
        description="Delete the pool and everything in it; confirm_name must repeat the pool's name.",
    )
    def delete(self, request, pool):
        data = self.valid(s.ConfirmSerializer, request.data)
        pools.pool_delete(
            actor=request.user, cluster=self.cluster(request), name=pool, confirm_name=data["confirm_name"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class PoolOptionsApi(StorageApi):
    @extend_schema(
        parameters=[CLUSTER],
        request=s.PoolOptionsSerializer,
        responses=with_errors({200: s.PoolSerializer}),
        description="Set the pool's compression mode and/or PG autoscale mode (platform admins).",
    )
    def patch(self, request, pool):
        data = self.valid(s.PoolOptionsSerializer, request.data)
        info = pools.pool_set_options(actor=request.user, cluster=self.cluster(request), name=pool, **data)
        return Response(s.PoolSerializer(info).data)


class NamespaceListApi(StorageApi):
    @extend_schema(parameters=[CLUSTER], responses=with_errors({200: OpenApiTypes.OBJECT}))
    def get(self, request, pool):
        names = namespaces.namespace_list(actor=request.user, cluster=self.cluster(request), pool=pool)
        return Response({"namespaces": names})

    @extend_schema(
        parameters=[CLUSTER], request=s.NamespaceSerializer, responses=with_errors({201: s.NamespaceSerializer})
    )
    def post(self, request, pool):
        data = self.valid(s.NamespaceSerializer, request.data)
        name = namespaces.namespace_create(actor=request.user, cluster=self.cluster(request), pool=pool, **data)
        return Response({"name": name}, status=status.HTTP_201_CREATED)


class NamespaceDetailApi(StorageApi):
    @extend_schema(parameters=[CLUSTER], responses=with_errors({204: None}))
    def delete(self, request, pool, name):
        namespaces.namespace_delete(actor=request.user, cluster=self.cluster(request), pool=pool, name=name)
        return Response(status=status.HTTP_204_NO_CONTENT)


ORDERINGS = ["name", "-name", "size", "-size", "created", "-created"]


class ImageListApi(StorageApi):
    @extend_schema(
        parameters=[
            CLUSTER,
            NAMESPACE,
            OpenApiParameter("search", str, description="Part of the image name"),
            OpenApiParameter("ordering", str, enum=ORDERINGS, description="Sort key; '-' for descending"),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
            OpenApiParameter(
                "with_used",
                bool,
                description="Also measure each image of the page (fast-diff, like `rbd du`); `used` is null otherwise",
            ),
            OpenApiParameter(
                "kubernetes",
                str,
                enum=["used", "unused"],
                description="Only the images a Kubernetes PersistentVolume names (used), or only the others (unused)",
            ),
        ],
        operation_id="storage_pools_images_list",
        responses=with_errors({200: s.ImagePageSerializer}),
    )
    def get(self, request, pool):
        ordering = request.query_params.get("ordering", "name")
        if ordering not in ORDERINGS:
            raise InvalidInput(
                f"ordering: must be one of {', '.join(ORDERINGS)}.",
                code="invalid_ordering",
                extra={"field": "ordering"},
            )
        page = _positive_int(request, "page", 1, maximum=10**9)
        page_size = _positive_int(request, "page_size", 50, maximum=images.MAX_PAGE_SIZE)
        result = images.image_list_json(
            **self.place(request, pool),
            search=request.query_params.get("search", ""),
            sort=ordering.lstrip("-"),
            descending=ordering.startswith("-"),
            offset=(page - 1) * page_size,
            limit=page_size,
            with_used=request.query_params.get("with_used", "").lower() in ("1", "true", "yes"),
            kubernetes=request.query_params.get("kubernetes", ""),
        )
        url = request.build_absolute_uri()
        has_next = page * page_size < result.total
        envelope = {
            "count": result.total,
            "next": replace_query_param(url, "page", page + 1) if has_next else None,
            "previous": (
                None
                if page == 1
                else remove_query_param(url, "page")
                if page == 2
                else replace_query_param(url, "page", page - 1)
            ),
        }
        # The rows come as ImageSerializer's JSON, each encoded once: 10,000 of them through DRF's fields
        # would cost more than reading their headers from Ceph.
        body = b"".join((orjson.dumps(envelope)[:-1], b',"results":[', b",".join(result.items), b"]}"))
        response = HttpResponse(body, content_type="application/json")
        # How old the rows may be (the shared image list cache), as HTTP says it for a cached answer.
        response["Age"] = str(max(0, int((datetime.now(UTC) - result.as_of).total_seconds())))
        return response

    @extend_schema(
        parameters=[CLUSTER, NAMESPACE],
        request=s.ImageCreateSerializer,
        responses=with_errors({201: s.ImageSerializer}),
    )
    def post(self, request, pool):
        data = self.valid(s.ImageCreateSerializer, request.data)
        image = images.image_create(
            actor=request.user, cluster=self.cluster(request), pool=pool, namespace=self.namespace(request), **data
        )
        return Response(s.ImageSerializer(image).data, status=status.HTTP_201_CREATED)


def _positive_int(request: Request, field: str, default: int, *, maximum: int) -> int:
    raw = request.query_params.get(field)
    if raw in (None, ""):
        return default
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise InvalidInput(
            f"{field}: must be a whole number from 1 to {maximum}.", code="invalid_page", extra={"field": field}
        )
    return int(raw)


class ImageDetailApi(StorageApi):
    @extend_schema(parameters=[CLUSTER, NAMESPACE], responses=with_errors({200: s.ImageSerializer}))
    def get(self, request, pool, name):
        image = images.image_get(
            actor=request.user, cluster=self.cluster(request), pool=pool, namespace=self.namespace(request), name=name
        )
        return Response(s.ImageSerializer(image).data)

    @extend_schema(
        parameters=[CLUSTER, NAMESPACE],
        request=s.ImageUpdateSerializer,
        responses=with_errors({200: s.ImageSerializer}),
        description="Resize (shrinking needs allow_shrink) and/or rename the image.",
    )
    def patch(self, request, pool, name):
        data = self.valid(s.ImageUpdateSerializer, request.data)
        cluster, namespace = self.cluster(request), self.namespace(request)
        if "size" not in data and "new_name" not in data:
            raise InvalidInput("Give a new size, a new_name, or both.", code="nothing_to_change")
        image = None
        if "size" in data:
            image = images.image_resize(
                actor=request.user,
                cluster=cluster,
                pool=pool,
                namespace=namespace,
                name=name,
                size=data["size"],
                allow_shrink=data["allow_shrink"],
                force_in_use=data["force_in_use"],
            )
        if "new_name" in data and data["new_name"] != name:
            image = images.image_rename(
                actor=request.user,
                cluster=cluster,
                pool=pool,
                namespace=namespace,
                name=name,
                new_name=data["new_name"],
                force_in_use=data["force_in_use"],
            )
        if image is None:
            image = images.image_get(actor=request.user, cluster=cluster, pool=pool, namespace=namespace, name=name)
        return Response(s.ImageSerializer(image).data)

    @extend_schema(
        parameters=[CLUSTER, NAMESPACE],
        request=s.ImageDeleteSerializer,
        responses=with_errors({202: TASK_ACCEPTED, 204: None}),
        description="Move to the trash (204), or remove for good in the background (202) when to_trash is "
        "false and confirm_name repeats the image's name.",
    )
    def delete(self, request, pool, name):
        data = self.valid(s.ImageDeleteSerializer, request.data)
        task = images.image_delete(
            **self.place(request, pool),
            name=name,
            **data,
        )
        return _task_response(task) if task else Response(status=status.HTTP_204_NO_CONTENT)


class ImageCopyApi(StorageApi):
    @extend_schema(
        parameters=[CLUSTER, NAMESPACE], request=s.ImageCopySerializer, responses=with_errors({202: TASK_ACCEPTED})
    )
    def post(self, request, pool, name):
        data = self.valid(s.ImageCopySerializer, request.data)
        return _task_response(
            images.image_copy(
                **self.place(request, pool),
                name=name,
                **data,
            )
        )


class ImageFlattenApi(StorageApi):
    @extend_schema(parameters=[CLUSTER, NAMESPACE], request=None, responses=with_errors({202: TASK_ACCEPTED}))
    def post(self, request, pool, name):
        return _task_response(
            snapshots.image_flatten(
                **self.place(request, pool),
                name=name,
            )
        )


class SnapshotListApi(StorageApi):
    @extend_schema(parameters=[CLUSTER, NAMESPACE], responses=with_errors({200: s.SnapshotSerializer(many=True)}))
    def get(self, request, pool, name):
        items = snapshots.snapshot_list(
            actor=request.user, cluster=self.cluster(request), pool=pool, namespace=self.namespace(request), image=name
        )
        return Response(s.SnapshotSerializer(items, many=True).data)

    @extend_schema(
        parameters=[CLUSTER, NAMESPACE],
        request=s.SnapshotCreateSerializer,
        responses=with_errors({201: s.SnapshotSerializer}),
    )
    def post(self, request, pool, name):
        data = self.valid(s.SnapshotCreateSerializer, request.data)
        snapshot = snapshots.snapshot_create(
            **self.place(request, pool),
            image=name,
            snapshot=data["name"],
        )
        return Response(s.SnapshotSerializer(snapshot).data, status=status.HTTP_201_CREATED)


class SnapshotDetailApi(StorageApi):
    @extend_schema(
        parameters=[CLUSTER, NAMESPACE],
        request=s.SnapshotRenameSerializer,
        responses=with_errors({200: s.SnapshotSerializer}),
        description="Rename the snapshot.",
    )
    def patch(self, request, pool, name, snapshot):
        data = self.valid(s.SnapshotRenameSerializer, request.data)
        renamed = snapshots.snapshot_rename(
            **self.place(request, pool),
            image=name,
            snapshot=snapshot,
            new_name=data["new_name"],
        )
        return Response(s.SnapshotSerializer(renamed).data)

    @extend_schema(parameters=[CLUSTER, NAMESPACE], responses=with_errors({204: None}))
    def delete(self, request, pool, name, snapshot):
        snapshots.snapshot_delete(
            **self.place(request, pool),
            image=name,
            snapshot=snapshot,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


def _snapshot_action(service, description: str):
    class SnapshotActionApi(StorageApi):
        @extend_schema(
            parameters=[CLUSTER, NAMESPACE],
            request=None,
            responses=with_errors({204: None}),
            description=description,
        )
        def post(self, request, pool, name, snapshot):
            service(
                **self.place(request, pool),
                image=name,
                snapshot=snapshot,
            )
            return Response(status=status.HTTP_204_NO_CONTENT)

    SnapshotActionApi.__name__ = SnapshotActionApi.__qualname__ = f"Snapshot{service.__name__.title()}Api"
    return SnapshotActionApi


SnapshotRollbackApi = _snapshot_action(
    snapshots.snapshot_rollback, "Roll the image back to the snapshot (its current data is lost)."
)
SnapshotProtectApi = _snapshot_action(snapshots.snapshot_protect, "Protect the snapshot so it can be cloned.")
SnapshotUnprotectApi = _snapshot_action(
    snapshots.snapshot_unprotect, "Unprotect the snapshot (it must have no clones)."
)


class SnapshotCopyApi(StorageApi):
    @extend_schema(
        parameters=[CLUSTER, NAMESPACE],
        request=s.ImageCopySerializer,
        responses=with_errors({202: TASK_ACCEPTED}),
        description="Copy the image as it was at the snapshot to a new image, in the background; counted against "
        "the destination's quota like any copy.",
    )
    def post(self, request, pool, name, snapshot):
        data = self.valid(s.ImageCopySerializer, request.data)
        return _task_response(
            images.image_copy(
                **self.place(request, pool),
                name=name,
                snapshot=snapshot,
                **data,
            )
        )


class SnapshotCloneApi(StorageApi):
    @extend_schema(
        parameters=[CLUSTER, NAMESPACE],
        request=s.CloneSerializer,
        responses=with_errors({201: s.ImageSerializer}),
        description="Clone the snapshot. It must be protected unless the cluster requires mimic or later clients "
        "(clone format 2).",
    )
    def post(self, request, pool, name, snapshot):
        data = self.valid(s.CloneSerializer, request.data)
        image = snapshots.image_clone(
            **self.place(request, pool),
            image=name,
            snapshot=snapshot,
            **data,
        )
        return Response(s.ImageSerializer(image).data, status=status.HTTP_201_CREATED)


class TrashListApi(StorageApi):
    @extend_schema(parameters=[CLUSTER, NAMESPACE], responses=with_errors({200: s.TrashEntrySerializer(many=True)}))
    def get(self, request, pool):
        entries = trash.trash_list(
            actor=request.user, cluster=self.cluster(request), pool=pool, namespace=self.namespace(request)
        )
        return Response(s.TrashEntrySerializer(entries, many=True).data)


class TrashPurgeApi(StorageApi):
    @extend_schema(
        parameters=[CLUSTER, NAMESPACE],
        request=s.TrashPurgeSerializer,
        responses=with_errors({202: TASK_ACCEPTED}),
        description="Remove the entries of the namespace's trash whose protection has ended for good, in the "
        "background; with force and confirm_name (the pool's name) every entry.",
    )
    def post(self, request, pool):
        data = self.valid(s.TrashPurgeSerializer, request.data)
        return _task_response(
            trash.trash_purge(
                actor=request.user, cluster=self.cluster(request), pool=pool, namespace=self.namespace(request), **data
            )
        )


class TrashEntryApi(StorageApi):
    @extend_schema(
        parameters=[CLUSTER, NAMESPACE],
        request=s.TrashPurgeSerializer,
        responses=with_errors({202: TASK_ACCEPTED}),
        description="Remove this trash entry for good, in the background. A protected entry (409 "
        "trash_entry_protected) goes only with force and confirm_name (the image's name).",
    )
    def delete(self, request, pool, image_id):
        data = self.valid(s.TrashPurgeSerializer, request.data)
        return _task_response(
            trash.trash_purge(
                **self.place(request, pool),
                image_id=image_id,
                **data,
            )
        )


class SnapshotScheduleListApi(StorageApi):
    @extend_schema(
        parameters=[CLUSTER, NAMESPACE], responses=with_errors({200: s.SnapshotScheduleSerializer(many=True)})
    )
    def get(self, request, pool):
        found = snapshot_schedules.snapshot_schedule_list(
            actor=request.user, cluster=self.cluster(request), pool=pool, namespace=self.namespace(request)
        )
        return Response(s.SnapshotScheduleSerializer(found, many=True).data)

    @extend_schema(
        parameters=[CLUSTER, NAMESPACE],
        request=s.SnapshotScheduleCreateSerializer,
        responses=with_errors({201: s.SnapshotScheduleSerializer}),
        description="Schedule snapshots of one image or of every image in the namespace, keeping the newest "
        "`keep` of the schedule's own per image.",
    )
    def post(self, request, pool):
        data = self.valid(s.SnapshotScheduleCreateSerializer, request.data)
        schedule = snapshot_schedules.snapshot_schedule_create(
            actor=request.user, cluster=self.cluster(request), pool=pool, namespace=self.namespace(request), **data
        )
        return Response(s.SnapshotScheduleSerializer(schedule).data, status=status.HTTP_201_CREATED)


class SnapshotScheduleDetailApi(StorageApi):
    @extend_schema(parameters=[CLUSTER, NAMESPACE], responses=with_errors({200: s.SnapshotScheduleSerializer}))
    def get(self, request, pool, schedule_id):
        schedule = snapshot_schedules.snapshot_schedule_get(
            **self.place(request, pool),
            schedule_id=schedule_id,
        )
        return Response(s.SnapshotScheduleSerializer(schedule).data)

    @extend_schema(
        parameters=[CLUSTER, NAMESPACE],
        responses=with_errors({204: None}),
        description="Stop the schedule; the snapshots it took stay.",
    )
    def delete(self, request, pool, schedule_id):
        snapshot_schedules.snapshot_schedule_delete(
            **self.place(request, pool),
            schedule_id=schedule_id,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class TrashRestoreApi(StorageApi):
    @extend_schema(
        parameters=[CLUSTER, NAMESPACE],
        request=s.TrashRestoreSerializer,
        responses=with_errors({200: s.ImageSerializer}),
    )
    def post(self, request, pool, image_id):
        data = self.valid(s.TrashRestoreSerializer, request.data)
        image = trash.trash_restore(
            **self.place(request, pool),
            image_id=image_id,
            **data,
        )
        return Response(s.ImageSerializer(image).data)


class ImageUsageApi(StorageApi):
    @extend_schema(parameters=[CLUSTER, NAMESPACE], responses=with_errors({200: s.ImageUsageSerializer}))
    def get(self, request, pool, name):
        measured = usage.image_usage(
            actor=request.user, cluster=self.cluster(request), pool=pool, namespace=self.namespace(request), name=name
        )
        return Response(s.ImageUsageSerializer(measured).data)


class ImageQosApi(StorageApi):
    @extend_schema(parameters=[CLUSTER, NAMESPACE], responses=with_errors({200: s.QosSettingSerializer(many=True)}))
    def get(self, request, pool, name):
        settings = qos.image_qos_get(
            actor=request.user, cluster=self.cluster(request), pool=pool, namespace=self.namespace(request), name=name
        )
        return Response(s.QosSettingSerializer(settings, many=True).data)

    @extend_schema(
        parameters=[CLUSTER, NAMESPACE],
        request=s.QosChangeSerializer,
        responses=with_errors({200: s.QosSettingSerializer(many=True)}),
        description="Set the image's own QoS limits (librbd clients only; krbd ignores them). null drops the "
        "image's override so the pool's default applies.",
    )
    def patch(self, request, pool, name):
        changes = self.valid(s.QosChangeSerializer, request.data)
        settings = qos.image_qos_set(
            **self.place(request, pool),
            name=name,
            changes=changes,
        )
        return Response(s.QosSettingSerializer(settings, many=True).data)


class PoolQosApi(StorageApi):
    @extend_schema(parameters=[CLUSTER], responses=with_errors({200: s.QosSettingSerializer(many=True)}))
    def get(self, request, pool):
        settings = qos.pool_qos_get(actor=request.user, cluster=self.cluster(request), pool=pool)
        return Response(s.QosSettingSerializer(settings, many=True).data)

    @extend_schema(
        parameters=[CLUSTER],
        request=s.QosChangeSerializer,
        responses=with_errors({200: s.QosSettingSerializer(many=True)}),
        description="Default QoS limits of every image in the pool (RBD namespaces included) without its own; "
        "librbd 16 applies defaults per pool only, not per RBD namespace. null drops a default.",
    )
    def patch(self, request, pool):
        changes = self.valid(s.QosChangeSerializer, request.data)
        settings = qos.pool_qos_set(actor=request.user, cluster=self.cluster(request), pool=pool, changes=changes)
        return Response(s.QosSettingSerializer(settings, many=True).data)


class ImageFeaturesApi(StorageApi):
    @extend_schema(
        parameters=[CLUSTER, NAMESPACE],
        request=s.FeatureChangeSerializer,
        responses=with_errors({200: s.ImageSerializer}),
        description="Enable or disable exclusive-lock, object-map and fast-diff (the latter two together), or "
        "disable deep-flatten; an enabled object map is rebuilt at once.",
    )
    def patch(self, request, pool, name):
        data = self.valid(s.FeatureChangeSerializer, request.data)
        cluster, namespace = self.cluster(request), self.namespace(request)
        features.image_features_update(
            actor=request.user, cluster=cluster, pool=pool, namespace=namespace, name=name, features=data["features"]
        )
        image = images.image_get(actor=request.user, cluster=cluster, pool=pool, namespace=namespace, name=name)
        return Response(s.ImageSerializer(image).data)


class ImageMetadataListApi(StorageApi):
    @extend_schema(parameters=[CLUSTER, NAMESPACE], responses=with_errors({200: s.MetadataEntrySerializer(many=True)}))
    def get(self, request, pool, name):
        entries = metadata.image_metadata_list(
            actor=request.user, cluster=self.cluster(request), pool=pool, namespace=self.namespace(request), name=name
        )
        return Response(s.MetadataEntrySerializer(entries, many=True).data)


class ImageMetadataDetailApi(StorageApi):
    @extend_schema(
        parameters=[CLUSTER, NAMESPACE],
        request=s.MetadataValueSerializer,
        responses=with_errors({200: s.MetadataEntrySerializer}),
        description="Set a metadata key (conf_ keys are refused: use the QoS endpoint).",
    )
    def put(self, request, pool, name, key):
        data = self.valid(s.MetadataValueSerializer, request.data)
        entry = metadata.image_metadata_set(
            **self.place(request, pool),
            name=name,
            key=key,
            value=data["value"],
        )
        return Response(s.MetadataEntrySerializer(entry).data)

    @extend_schema(parameters=[CLUSTER, NAMESPACE], responses=with_errors({204: None}))
    def delete(self, request, pool, name, key):
        metadata.image_metadata_remove(
            **self.place(request, pool),
            name=name,
            key=key,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
