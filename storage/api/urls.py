from django.urls import path, register_converter

from storage.api import views


class ObjectNameConverter:
    """One path segment that is not '.' or '..'; the view validates it as a name and answers 400
    for anything else, where a stricter pattern here would answer with Django's HTML 404.
    Declaring the pattern here also puts it into the OpenAPI schema."""

    regex = r"[^/]*[^/.][^/]*"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ObjectNameConverter, "ceph")

# Included under /api/v1/storage/ in the "api" namespace.
urlpatterns = [
    path("pools/", views.PoolListApi.as_view(), name="storage-pool-list"),
    path("pools/<ceph:pool>/", views.PoolDetailApi.as_view(), name="storage-pool-detail"),
    path("pools/<ceph:pool>/namespaces/", views.NamespaceListApi.as_view(), name="storage-namespace-list"),
    path(
        "pools/<ceph:pool>/namespaces/<ceph:name>/", views.NamespaceDetailApi.as_view(), name="storage-namespace-detail"
    ),
    path("pools/<ceph:pool>/images/", views.ImageListApi.as_view(), name="storage-image-list"),
    path("pools/<ceph:pool>/images/<ceph:name>/", views.ImageDetailApi.as_view(), name="storage-image-detail"),
    path("pools/<ceph:pool>/options/", views.PoolOptionsApi.as_view(), name="storage-pool-options"),
    path("pools/<ceph:pool>/qos/", views.PoolQosApi.as_view(), name="storage-pool-qos"),
    path("pools/<ceph:pool>/images/<ceph:name>/usage/", views.ImageUsageApi.as_view(), name="storage-image-usage"),
    path("pools/<ceph:pool>/images/<ceph:name>/qos/", views.ImageQosApi.as_view(), name="storage-image-qos"),
    path(
        "pools/<ceph:pool>/images/<ceph:name>/features/",
        views.ImageFeaturesApi.as_view(),
        name="storage-image-features",
    ),
    path(
        "pools/<ceph:pool>/images/<ceph:name>/metadata/",
        views.ImageMetadataListApi.as_view(),
        name="storage-image-metadata-list",
    ),
    path(
        "pools/<ceph:pool>/images/<ceph:name>/metadata/<str:key>/",
        views.ImageMetadataDetailApi.as_view(),
        name="storage-image-metadata-detail",
    ),
    path("pools/<ceph:pool>/images/<ceph:name>/copy/", views.ImageCopyApi.as_view(), name="storage-image-copy"),
    path(
        "pools/<ceph:pool>/images/<ceph:name>/flatten/", views.ImageFlattenApi.as_view(), name="storage-image-flatten"
    ),
    path(
        "pools/<ceph:pool>/images/<ceph:name>/snapshots/", views.SnapshotListApi.as_view(), name="storage-snapshot-list"
    ),
    path(
        "pools/<ceph:pool>/images/<ceph:name>/snapshots/<ceph:snapshot>/",
        views.SnapshotDetailApi.as_view(),
        name="storage-snapshot-detail",
    ),
    path(
        "pools/<ceph:pool>/images/<ceph:name>/snapshots/<ceph:snapshot>/rollback/",
        views.SnapshotRollbackApi.as_view(),
        name="storage-snapshot-rollback",
    ),
    path(
        "pools/<ceph:pool>/images/<ceph:name>/snapshots/<ceph:snapshot>/protect/",
        views.SnapshotProtectApi.as_view(),
        name="storage-snapshot-protect",
    ),
    path(
        "pools/<ceph:pool>/images/<ceph:name>/snapshots/<ceph:snapshot>/unprotect/",
        views.SnapshotUnprotectApi.as_view(),
        name="storage-snapshot-unprotect",
    ),
    path(
        "pools/<ceph:pool>/images/<ceph:name>/snapshots/<ceph:snapshot>/clone/",
        views.SnapshotCloneApi.as_view(),
        name="storage-snapshot-clone",
    ),
    path(
        "pools/<ceph:pool>/images/<ceph:name>/snapshots/<ceph:snapshot>/copy/",
        views.SnapshotCopyApi.as_view(),
        name="storage-snapshot-copy",
    ),
    path("pools/<ceph:pool>/trash/", views.TrashListApi.as_view(), name="storage-trash-list"),
    path("pools/<ceph:pool>/trash/purge/", views.TrashPurgeApi.as_view(), name="storage-trash-purge"),
    path("pools/<ceph:pool>/trash/<ceph:image_id>/", views.TrashEntryApi.as_view(), name="storage-trash-entry"),
    path(
        "pools/<ceph:pool>/trash/<ceph:image_id>/restore/",
        views.TrashRestoreApi.as_view(),
        name="storage-trash-restore",
    ),
    path(
        "pools/<ceph:pool>/snapshot-schedules/",
        views.SnapshotScheduleListApi.as_view(),
        name="storage-snapshot-schedule-list",
    ),
    path(
        "pools/<ceph:pool>/snapshot-schedules/<int:schedule_id>/",
        views.SnapshotScheduleDetailApi.as_view(),
        name="storage-snapshot-schedule-detail",
    ),
]
