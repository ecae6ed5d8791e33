from django.urls import path

from storage import views

app_name = "storage"

image = "pools/<str:pool>/images/<str:name>/"
snapshot = f"{image}snapshots/<str:snapshot>/"

urlpatterns = [
    path("", views.PoolListView.as_view(), name="pool-list"),
    path("pools/create/", views.PoolCreateView.as_view(), name="pool-create"),
    path("pools/<str:pool>/", views.PoolDetailView.as_view(), name="pool-detail"),
    path("pools/<str:pool>/quota/", views.PoolQuotaView.as_view(), name="pool-quota"),
    path("pools/<str:pool>/options/", views.PoolOptionsView.as_view(), name="pool-options"),
    path("pools/<str:pool>/qos/", views.PoolQosView.as_view(), name="pool-qos"),
    path("pools/<str:pool>/delete/", views.PoolDeleteView.as_view(), name="pool-delete"),
    path("pools/<str:pool>/namespaces/create/", views.NamespaceCreateView.as_view(), name="namespace-create"),
    path(
        "pools/<str:pool>/namespaces/<str:name>/delete/", views.NamespaceDeleteView.as_view(), name="namespace-delete"
    ),
    path("pools/<str:pool>/images/", views.ImageListView.as_view(), name="image-list"),
    path("pools/<str:pool>/images/create/", views.ImageCreateView.as_view(), name="image-create"),
    path(image, views.ImageDetailView.as_view(), name="image-detail"),
    path(f"{image}resize/", views.ImageResizeView.as_view(), name="image-resize"),
    path(f"{image}rename/", views.ImageRenameView.as_view(), name="image-rename"),
    path(f"{image}copy/", views.ImageCopyView.as_view(), name="image-copy"),
    path(f"{image}delete/", views.ImageDeleteView.as_view(), name="image-delete"),
    path(f"{image}flatten/", views.ImageFlattenView.as_view(), name="image-flatten"),
    path(f"{image}qos/", views.ImageQosView.as_view(), name="image-qos"),
    path(f"{image}features/", views.ImageFeaturesView.as_view(), name="image-features"),
    path(f"{image}metadata/", views.ImageMetadataView.as_view(), name="image-metadata"),
    path(f"{image}metadata/<str:key>/remove/", views.ImageMetadataRemoveView.as_view(), name="image-metadata-remove"),
    path(f"{image}snapshots/create/", views.SnapshotCreateView.as_view(), name="snapshot-create"),
    path(f"{snapshot}delete/", views.SnapshotDeleteView.as_view(), name="snapshot-delete"),
    path(f"{snapshot}rollback/", views.SnapshotRollbackView.as_view(), name="snapshot-rollback"),
    path(f"{snapshot}protect/", views.SnapshotProtectView.as_view(), name="snapshot-protect"),
    path(f"{snapshot}unprotect/", views.SnapshotUnprotectView.as_view(), name="snapshot-unprotect"),
    path(f"{snapshot}clone/", views.SnapshotCloneView.as_view(), name="snapshot-clone"),
    path(f"{snapshot}rename/", views.SnapshotRenameView.as_view(), name="snapshot-rename"),
    path(f"{snapshot}copy/", views.SnapshotCopyView.as_view(), name="snapshot-copy"),
    path("trash-auto-purge/", views.TrashAutoPurgeView.as_view(), name="trash-auto-purge"),
    path("pools/<str:pool>/trash/", views.TrashListView.as_view(), name="trash-list"),
    path("pools/<str:pool>/trash/purge/", views.TrashPurgeView.as_view(), name="trash-purge"),
    path("pools/<str:pool>/trash/empty/", views.TrashPurgeView.as_view(force=True), name="trash-purge-forced"),
    path("pools/<str:pool>/trash/<str:image_id>/restore/", views.TrashRestoreView.as_view(), name="trash-restore"),
    path(
        "pools/<str:pool>/trash/<str:image_id>/restore-as/", views.TrashRestoreAsView.as_view(), name="trash-restore-as"
    ),
    path("pools/<str:pool>/trash/<str:image_id>/purge/", views.TrashPurgeView.as_view(), name="trash-purge-entry"),
    path(
        "pools/<str:pool>/snapshot-schedules/", views.SnapshotScheduleListView.as_view(), name="snapshot-schedule-list"
    ),
    path(
        "pools/<str:pool>/snapshot-schedules/create/",
        views.SnapshotScheduleCreateView.as_view(),
        name="snapshot-schedule-create",
    ),
    path(
        "pools/<str:pool>/snapshot-schedules/<int:schedule_id>/delete/",
        views.SnapshotScheduleDeleteView.as_view(),
        name="snapshot-schedule-delete",
    ),
    path("tenant-keys/orphaned/", views.TenantKeyOrphanListView.as_view(), name="tenant-key-orphans"),
    path(
        "tenant-keys/orphaned/<str:entity>/revoke/",
        views.TenantKeyOrphanRevokeView.as_view(),
        name="tenant-key-orphan-revoke",
    ),
]
