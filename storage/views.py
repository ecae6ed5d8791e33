"""The storage UI: pools, RBD namespaces, images, snapshots and the RBD trash.

Each view declares what it shows and which ONE service it calls; dashboard.core.generic does the rest
(htmx fragments, errors next to fields, confirmations, toasts, background-task progress).
"""

from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from functools import cached_property
from operator import attrgetter
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from dashboard.core.errors import BerthError, NotFound
from dashboard.core.generic.views import (
    Column,
    ConfirmView,
    ListPage,
    ListQuery,
    ServiceActionView,
    ServiceDetailView,
    ServiceFormView,
    ServiceListView,
    page_of,
)
from dashboard.tenancy import services as tenancy
from storage import forms as storage_forms
from storage.models import CephCluster
from storage.selectors import ceph_cluster_get
from storage.services import (
    features,
    image_users,
    images,
    metadata,
    namespaces,
    pools,
    qos,
    snapshot_schedules,
    snapshots,
    tenant_keys,
    trash,
    usage,
)
from storage.services import tenancy as storage_tenancy
from storage.services.types import PoolInfo
from storage.templatetags.storage_ui import storage_url


class CephClusterMixin:
    """The cluster comes from `?cluster=` or is the default one; the RBD namespace from
    `?namespace=` (empty: the pool's default namespace)."""

    # Set by the view this is mixed into.
    request: HttpRequest
    kwargs: dict[str, Any]

    @cached_property
    def cluster(self) -> CephCluster:
        return ceph_cluster_get(actor=self.request.user, name=self.request.GET.get("cluster"))

    @property
    def namespace(self) -> str:
        return self.request.GET.get("namespace", "")

    @property
    def pool(self) -> str:
        return self.kwargs["pool"]

    def url(self, url_name: str, *args: object, namespace: str | None = None, **params: object) -> str:
        return storage_url(
            self.request, url_name, *args, namespace=self.namespace if namespace is None else namespace, **params
        )

    def service_args(self) -> dict[str, Any]:
        return {"actor": self.request.user, "cluster": self.cluster}

    def home_namespace(self, pool: str) -> str:
        """The RBD namespace a link to the pool opens: the default one ("") unless the user's
        tenants own only namespaces of the pool, whose default namespace would answer 404."""
        visible = storage_tenancy.visible_namespaces(self.request.user, self.cluster, pool)
        return "" if visible is None else min(visible)


class ImageMixin(CephClusterMixin):
    @property
    def image(self) -> str:
        return self.kwargs["name"]

    def image_args(self) -> dict[str, Any]:
        return {**self.service_args(), "pool": self.pool, "namespace": self.namespace}

    def image_url(self) -> str:
        return self.url("image-detail", self.pool, self.image)


# --- Pools ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolRow(PoolInfo):
    """A pool in the list, with the RBD namespace its link opens."""

    namespace: str = ""


class PoolListView(CephClusterMixin, ServiceListView):
    title = "Pools"
    template_name = "storage/pool_list.html"
    table_template = "storage/_pool_table.html"
    kept_params = ("cluster",)
    columns = (
        Column("name", "Name", sortable=True),
        Column("id", "ID", sortable=True),
        Column("applications", "Applications"),
        Column("size", "Replicas", sortable=True),
        Column("pg_num", "PGs", sortable=True),
        Column("stored_bytes", "Stored", sortable=True),
        Column("objects", "Objects", sortable=True),
        Column("quota_max_bytes", "Quota"),
        Column("percent_used", "Used", sortable=True),
    )

    def fetch(self, query: ListQuery) -> ListPage:
        found = pools.pool_list(**self.service_args())
        listing = page_of(
            found,
            query,
            search_key=lambda pool: pool.name,
            sort_keys={column.key: attrgetter(column.key) for column in self.columns if column.sortable},
        )
        return replace(
            listing, items=[PoolRow(**asdict(pool), namespace=self.home_namespace(pool.name)) for pool in listing.items]
        )

    def get_context_data(self) -> dict[str, Any]:
        return {"may_list_orphaned_keys": tenancy.is_platform_admin(self.request.user)}


class PoolDetailView(CephClusterMixin, ServiceDetailView):
    template_name = "storage/pool_detail.html"

    def load(self) -> dict[str, Any]:
        pool = pools.pool_get(**self.service_args(), name=self.pool)
        return {
            "title": f"Pool {pool.name}",
            "pool": pool,
            "home_namespace": self.home_namespace(self.pool),
            "namespaces": namespaces.namespace_list(**self.service_args(), pool=self.pool),
        }


class PoolCreateView(CephClusterMixin, ServiceFormView):
    title = "Create a pool"
    form_class = storage_forms.PoolCreateForm
    submit_label = "Create pool"

    def perform(self, form: forms.Form):
        return pools.pool_create(**self.service_args(), **form.cleaned_data)

    def success_message(self, pool) -> str:
        return f"Pool {pool.name} created."

    def success_url(self, pool) -> str:
        return self.url("image-list", pool.name)

    def back_url(self) -> str:
        return self.url("pool-list")


class PoolQuotaView(CephClusterMixin, ServiceFormView):
    form_class = storage_forms.PoolQuotaForm
    submit_label = "Save quota"

    @property
    def title(self) -> str:
        return f"Quota of pool {self.pool}"

    def load(self) -> dict[str, Any]:
        return {"pool": pools.pool_get(**self.service_args(), name=self.pool)}

    def get_initial(self) -> dict[str, Any]:
        pool = self.loaded["pool"]
        return {"max_bytes": pool.quota_max_bytes or "", "max_objects": pool.quota_max_objects}

    def perform(self, form: forms.Form):
        return pools.pool_set_quota(**self.service_args(), name=self.pool, **form.cleaned_data)

    def success_message(self, pool) -> str:
        return (
            f"Quota of pool {pool.name} saved."
            if pool.quota_max_bytes or pool.quota_max_objects
            else f"Quota of pool {pool.name} cleared."
        )

    def back_url(self) -> str:
        return self.url("pool-list")


class PoolOptionsView(CephClusterMixin, ServiceFormView):
    form_class = storage_forms.PoolOptionsForm
    submit_label = "Save options"

    @property
    def title(self) -> str:
        return f"Options of pool {self.pool}"

    def load(self) -> dict[str, Any]:
        return {"pool": pools.pool_get(**self.service_args(), name=self.pool)}

    def get_initial(self) -> dict[str, Any]:
        pool = self.loaded["pool"]
        return {"compression_mode": pool.compression_mode, "pg_autoscale_mode": pool.pg_autoscale_mode}

    def perform(self, form: forms.Form):
        return pools.pool_set_options(**self.service_args(), name=self.pool, **form.cleaned_data)

    def success_message(self, pool) -> str:
        return f"Pool {pool.name}: compression {pool.compression_mode}, PG autoscaling {pool.pg_autoscale_mode}."

    def back_url(self) -> str:
        return self.url("pool-detail", self.pool, namespace="")


class PoolDeleteView(CephClusterMixin, ConfirmView):
    submit_label = "Delete pool"

    @property
    def title(self) -> str:
        return f"Delete pool {self.pool}"

    @property
    def warning(self) -> str:
        return f"Deleting pool {self.pool} destroys every image, snapshot and object in it. This cannot be undone."

    def typed_name(self) -> str:
        return self.pool

    def perform(self, form: forms.Form) -> None:
        pools.pool_delete(**self.service_args(), name=self.pool, confirm_name=form.cleaned_data["confirm_name"])

    def success_message(self, result: None) -> str:
        return f"Pool {self.pool} deleted."

    def back_url(self) -> str:
        return self.url("pool-list")


class NamespaceCreateView(CephClusterMixin, ServiceFormView):
    form_class = storage_forms.NamespaceCreateForm
    submit_label = "Create namespace"

    @property
    def title(self) -> str:
        return f"Create an RBD namespace in pool {self.pool}"

    def perform(self, form: forms.Form):
        return namespaces.namespace_create(**self.service_args(), pool=self.pool, name=form.cleaned_data["name"])

    def success_message(self, name: str) -> str:
        return f"Namespace {name} created in pool {self.pool}."

    def success_url(self, name: str) -> str:
        return self.url("image-list", self.pool, namespace=name)

    def back_url(self) -> str:
        return self.url("pool-detail", self.pool)


class NamespaceDeleteView(CephClusterMixin, ConfirmView):
    """Ceph refuses to delete a namespace that still holds images or trashed images; the page says
    beforehand what is left in it and links to where it can be cleared."""

    form_template = "storage/_namespace_delete_form.html"
    submit_label = "Delete namespace"

    @property
    def doomed_namespace(self) -> str:
        return self.kwargs["name"]

    @property
    def title(self) -> str:
        return f"Delete namespace {self.pool}/{self.doomed_namespace}"

    @property
    def warning(self) -> str:
        return (
            f"Deleting RBD namespace {self.doomed_namespace} removes it from pool {self.pool}; "
            "tenants bound to it lose their place for images."
        )

    def typed_name(self) -> str:
        return self.doomed_namespace

    def load(self) -> dict[str, Any]:
        inside = {**self.service_args(), "pool": self.pool, "namespace": self.doomed_namespace}
        return {
            "pool": self.pool,
            "doomed_namespace": self.doomed_namespace,
            "image_count": images.image_list(**inside, limit=1).total,
            "trash_count": len(trash.trash_list(**inside)),
            "images_url": self.url("image-list", self.pool, namespace=self.doomed_namespace),
            "trash_url": self.url("trash-list", self.pool, namespace=self.doomed_namespace),
        }

    def perform(self, form: forms.Form) -> None:
        namespaces.namespace_delete(**self.service_args(), pool=self.pool, name=self.doomed_namespace)

    def success_message(self, result: None) -> str:
        return f"Namespace {self.doomed_namespace} deleted from pool {self.pool}."

    def back_url(self) -> str:
        return self.url("pool-detail", self.pool, namespace="")


# --- Images --------------------------------------------------------------------------------------


class ImageListView(ImageMixin, ServiceListView):
    template_name = "storage/image_list.html"
    table_template = "storage/_image_table.html"
    kept_params = ("namespace", "cluster", "kubernetes")
    columns = (
        Column("name", "Name", sortable=True),
        Column("size", "Size", sortable=True),
        Column("used", "Used"),
        Column("features", "Features"),
        Column("object_size", "Object size"),
        Column("parent", "Parent"),
        Column("snapshot_count", "Snapshots"),
        Column("created", "Created", sortable=True),
    )

    @property
    def title(self) -> str:
        return f"Images in {self.pool}/{self.namespace}" if self.namespace else f"Images in pool {self.pool}"

    as_of: datetime | None = None

    def fetch(self, query: ListQuery) -> ListPage:
        refresh = self.request.GET.get("refresh") == "1"
        if refresh:
            # A one-off: the sort and page links drawn in this answer must not re-read everything again.
            kept = self.request.GET.copy()
            del kept["refresh"]
            kept._mutable = False
            self.request.GET = kept  # type: ignore[assignment]  # the stubs type GET as never replaced
        found = images.image_list(
            **self.image_args(),
            search=query.search,
            sort=query.sort,
            descending=query.descending,
            offset=query.offset,
            limit=query.limit,
            with_used=True,
            kubernetes=self.request.GET.get("kubernetes", ""),
            refresh=refresh,
        )
        self.as_of = found.as_of
        return ListPage(items=found.items, total=found.total, query=query)

    @property
    def data_age(self) -> str:
        """How old the listed sizes may be (the shared image list cache), in words."""
        seconds = max(0, int((datetime.now(UTC) - self.as_of).total_seconds())) if self.as_of else 0
        if seconds < 2:
            return "just now"
        return f"{seconds} seconds ago" if seconds < 120 else f"{seconds // 60} minutes ago"

    def get_context_data(self) -> dict[str, Any]:
        return {
            "pool": self.pool,
            "namespace": self.namespace,
            "kubernetes": self.request.GET.get("kubernetes", ""),
            "home_namespace": self.home_namespace(self.pool),
            "namespaces": namespaces.namespace_list(**self.service_args(), pool=self.pool),
        }


class ImageDetailView(ImageMixin, ServiceDetailView):
    template_name = "storage/image_detail.html"

    def load(self) -> dict[str, Any]:
        image = images.image_get(**self.image_args(), name=self.image)
        return {
            "title": f"Image {image.name}",
            "image": image,
            "pool": self.pool,
            "namespace": self.namespace,
            "snapshots": snapshots.snapshot_list(**self.image_args(), image=self.image),
            "snapshot_form": storage_forms.SnapshotCreateForm(),
            "clone_unprotected": snapshots.clone_v2_allowed(self.cluster),
            "usage": usage.image_usage(**self.image_args(), name=self.image),
            **self.kube_users(),
        }

    def kube_users(self) -> dict[str, Any]:
        # The page stays useful when the tenant's Kubernetes cluster does not answer.
        try:
            return {"kube_users": image_users.image_users_get(**self.image_args(), name=self.image)}
        except BerthError as error:
            return {"kube_users": [], "kube_users_error": error}


class ImageCreateView(ImageMixin, ServiceFormView):
    form_class = storage_forms.ImageCreateForm
    submit_label = "Create image"

    @property
    def title(self) -> str:
        where = f"{self.pool}/{self.namespace}" if self.namespace else self.pool
        return f"Create an image in {where}"

    template_name = "storage/tenant_image_create.html"

    def render_form(self, form: forms.Form, **kwargs: Any):
        # The tenant's remaining room, recomputed by htmx as the size is typed.
        preview = (
            reverse("tenant-quota-preview")
            + "?"
            + urlencode(
                {"cluster": self.request.GET.get("cluster", ""), "pool": self.pool, "namespace": self.namespace}
            )
        )
        for field in ("size", "size_unit"):
            form.fields[field].widget.attrs.update(
                {
                    "hx-get": preview,
                    "hx-trigger": "input changed delay:300ms, change",
                    "hx-target": "#quota-preview",
                    "hx-include": "[name=size], [name=size_unit]",
                    "hx-sync": "closest form:abort",
                }
            )
        return super().render_form(form, **kwargs)

    def perform(self, form: forms.Form):
        data = form.cleaned_data
        return images.image_create(
            **self.image_args(),
            name=data["name"],
            size=data["size"],
            object_size=data["object_size"],
            features=data["features"],
        )

    def success_message(self, image) -> str:
        return f"Image {image.name} created."

    def back_url(self) -> str:
        return self.url("image-list", self.pool)


class ImageFormView(ImageMixin, ServiceFormView):
    """A form about one existing image, shown next to its current state."""

    template_name = "storage/image_form.html"

    def load(self) -> dict[str, Any]:
        return {"image": images.image_get(**self.image_args(), name=self.image)}

    def back_url(self) -> str:
        return self.image_url()


class InUseImageFormView(ImageFormView):
    """A change refused while Kubernetes uses the image (409 image_in_use_by_kubernetes, naming the volumes,
    claims and pods). The refusal is shown to everyone; platform admins are also offered to force it, which
    the service allows them alone and audits as `force_in_use`."""

    form_template = "storage/_in_use_form.html"

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "image_name": self.image}

    def forced(self) -> bool:
        return bool(self.form.cleaned_data["force_in_use"])

    def render_form(self, form: forms.Form, *, status: int = 200, error=None):
        refused = error is not None and error.code == "image_in_use_by_kubernetes"
        # Only an offer: who may force is the service's call, whatever the form posts.
        if (refused or "force_confirm_name" in form.errors) and tenancy.is_platform_admin(self.request.user):
            cast(storage_forms.ForceInUseForm, form).offer_force()
            self.loaded = {**self.loaded, "offer_force": True}
        return super().render_form(form, status=status, error=error)


class ImageResizeView(InUseImageFormView):
    form_class = storage_forms.ImageResizeForm
    form_template = "storage/_resize_form.html"
    submit_label = "Resize"

    @property
    def title(self) -> str:
        return f"Resize image {self.image}"

    def perform(self, form: forms.Form):
        return images.image_resize(
            **self.image_args(),
            name=self.image,
            size=form.cleaned_data["size"],
            allow_shrink=form.cleaned_data["allow_shrink"],
            force_in_use=self.forced(),
        )

    def render_form(self, form: forms.Form, *, status: int = 200, error=None):
        # Shrinking needs a second, explicit step that shows the old and the new size side by side.
        if error is not None and error.code == "shrink_not_confirmed":
            cast(storage_forms.ImageResizeForm, form).show_shrink_confirmation()
            self.loaded = {**self.loaded, "shrink_to": error.extra["new_size"]}
        return super().render_form(form, status=status, error=error)

    def success_message(self, image) -> str:
        return f"Image {image.name} resized."


class ImageRenameView(InUseImageFormView):
    form_class = storage_forms.ImageRenameForm
    submit_label = "Rename"

    @property
    def title(self) -> str:
        return f"Rename image {self.image}"

    def perform(self, form: forms.Form):
        return images.image_rename(
            **self.image_args(), name=self.image, new_name=form.cleaned_data["new_name"], force_in_use=self.forced()
        )

    def success_message(self, image) -> str:
        return f"Image {self.image} renamed to {image.name}."

    def success_url(self, image) -> str:
        return self.url("image-detail", self.pool, image.name)


class ImageCopyView(ImageFormView):
    form_class = storage_forms.ImageDestinationForm
    submit_label = "Copy"

    @property
    def title(self) -> str:
        return f"Copy image {self.image}"

    def get_initial(self) -> dict[str, Any]:
        return {"dest_pool": self.pool, "dest_namespace": self.namespace, "dest_name": f"{self.image}-copy"}

    def perform(self, form: forms.Form):
        return images.image_copy(**self.image_args(), name=self.image, **form.cleaned_data)

    def success_message(self, task) -> str:
        return f"Copying image {self.image} started."

    def success_url(self, task) -> str:
        data = self.form.cleaned_data
        return self.url("image-list", data["dest_pool"], namespace=data.get("dest_namespace", ""))


class ImageDeleteView(InUseImageFormView):
    form_class = storage_forms.ImageDeleteForm
    template_name = "generic/confirm_delete.html"
    submit_label = "Delete"
    submit_style = "danger"

    @property
    def title(self) -> str:
        return f"Delete image {self.image}"

    def perform(self, form: forms.Form):
        removing = form.cleaned_data["mode"] == storage_forms.ImageDeleteForm.REMOVE
        return images.image_delete(
            **self.image_args(),
            name=self.image,
            to_trash=not removing,
            confirm_name=form.cleaned_data["confirm_name"] if removing else None,
            protect_days=0 if removing else form.cleaned_data["protect_days"] or 0,
            force_in_use=self.forced(),
        )

    def success_message(self, result) -> str:
        if self.form.cleaned_data["mode"] == storage_forms.ImageDeleteForm.REMOVE:
            return f"Removing image {self.image} started."
        days = self.form.cleaned_data["protect_days"]
        if days:
            return f"Image {self.image} moved to the trash, protected from purging for {days} day(s)."
        return f"Image {self.image} moved to the trash."

    def success_url(self, result) -> str:
        if self.form.cleaned_data["mode"] == storage_forms.ImageDeleteForm.REMOVE:
            return self.url("image-list", self.pool)
        return self.url("trash-list", self.pool)


class ImageFlattenView(ImageMixin, ConfirmView):
    submit_label = "Flatten"
    submit_style = "primary"

    @property
    def title(self) -> str:
        return f"Flatten clone {self.image}"

    warning = (
        "Flattening copies every block the clone still shares with its parent snapshot into the clone. "
        "It then no longer depends on the parent and uses more space."
    )

    def perform(self, form: forms.Form):
        return snapshots.image_flatten(**self.image_args(), name=self.image)

    def success_message(self, task) -> str:
        return f"Flattening image {self.image} started."

    def back_url(self) -> str:
        return self.image_url()


# --- Snapshots -----------------------------------------------------------------------------------


class SnapshotMixin(ImageMixin):
    @property
    def snapshot(self) -> str:
        return self.kwargs["snapshot"]

    def snapshot_args(self) -> dict[str, Any]:
        return {**self.image_args(), "image": self.image, "snapshot": self.snapshot}

    def back_url(self) -> str:
        return self.image_url()


class SnapshotCreateView(ImageMixin, ServiceFormView):
    form_class = storage_forms.SnapshotCreateForm
    submit_label = "Create snapshot"

    @property
    def title(self) -> str:
        return f"Snapshot image {self.image}"

    def perform(self, form: forms.Form):
        return snapshots.snapshot_create(**self.image_args(), image=self.image, snapshot=form.cleaned_data["snapshot"])

    def success_message(self, result) -> str:
        return f"Snapshot {self.form.cleaned_data['snapshot']} of {self.image} created."

    def back_url(self) -> str:
        return self.image_url()


class SnapshotDeleteView(SnapshotMixin, ConfirmView):
    submit_label = "Delete snapshot"

    @property
    def title(self) -> str:
        return f"Delete snapshot {self.image}@{self.snapshot}"

    @property
    def warning(self) -> str:
        return f"The image's state at snapshot {self.snapshot} will be lost. This cannot be undone."

    def typed_name(self) -> str:
        return self.snapshot

    def perform(self, form: forms.Form):
        return snapshots.snapshot_delete(**self.snapshot_args())

    def success_message(self, result) -> str:
        return f"Snapshot {self.snapshot} deleted."


class SnapshotRollbackView(SnapshotMixin, ConfirmView):
    submit_label = "Roll back"

    @property
    def title(self) -> str:
        return f"Roll {self.image} back to snapshot {self.snapshot}"

    @property
    def warning(self) -> str:
        return (
            f"Every change written to {self.image} since snapshot {self.snapshot} will be lost. "
            "Unmap or stop whatever uses the image first."
        )

    def perform(self, form: forms.Form):
        return snapshots.snapshot_rollback(**self.snapshot_args())

    def success_message(self, result) -> str:
        return f"Image {self.image} rolled back to snapshot {self.snapshot}."


class SnapshotProtectView(SnapshotMixin, ServiceActionView):
    def perform(self):
        return snapshots.snapshot_protect(**self.snapshot_args())

    def success_message(self, result) -> str:
        return f"Snapshot {self.snapshot} protected: it can now be cloned."


class SnapshotUnprotectView(SnapshotMixin, ServiceActionView):
    def perform(self):
        return snapshots.snapshot_unprotect(**self.snapshot_args())

    def success_message(self, result) -> str:
        return f"Snapshot {self.snapshot} unprotected."


class SnapshotRenameView(SnapshotMixin, ServiceFormView):
    form_class = storage_forms.SnapshotRenameForm
    submit_label = "Rename"

    @property
    def title(self) -> str:
        return f"Rename snapshot {self.image}@{self.snapshot}"

    def get_initial(self) -> dict[str, Any]:
        return {"new_name": self.snapshot}

    def perform(self, form: forms.Form):
        return snapshots.snapshot_rename(**self.snapshot_args(), new_name=form.cleaned_data["new_name"])

    def success_message(self, snapshot) -> str:
        return f"Snapshot {self.snapshot} renamed to {snapshot.name}."


class SnapshotCopyView(SnapshotMixin, ImageCopyView):
    """A copy of the image as it was at the snapshot: a new, independent image."""

    @property
    def title(self) -> str:
        return f"Copy {self.image}@{self.snapshot} to a new image"

    def get_initial(self) -> dict[str, Any]:
        return {**super().get_initial(), "dest_name": f"{self.image}-{self.snapshot}"}

    def perform(self, form: forms.Form):
        return images.image_copy(**self.image_args(), name=self.image, snapshot=self.snapshot, **form.cleaned_data)

    def success_message(self, task) -> str:
        return f"Copying {self.image}@{self.snapshot} started."


class SnapshotCloneView(SnapshotMixin, ServiceFormView):
    form_class = storage_forms.ImageDestinationForm
    submit_label = "Clone"

    @property
    def title(self) -> str:
        return f"Clone {self.image}@{self.snapshot}"

    def get_initial(self) -> dict[str, Any]:
        return {"dest_pool": self.pool, "dest_namespace": self.namespace, "dest_name": f"{self.image}-clone"}

    def perform(self, form: forms.Form):
        return snapshots.image_clone(**self.snapshot_args(), **form.cleaned_data)

    def success_message(self, image) -> str:
        return f"Clone {image.name} created from {self.image}@{self.snapshot}."

    def success_url(self, image) -> str:
        return self.url("image-detail", image.pool, image.name, namespace=image.namespace)


# --- Trash ---------------------------------------------------------------------------------------


class TrashListView(CephClusterMixin, ServiceListView):
    template_name = "storage/trash_list.html"
    table_template = "storage/_trash_table.html"
    kept_params = ("namespace", "cluster")
    default_sort = "deleted_at"
    default_descending = True
    columns = (
        Column("name", "Name", sortable=True),
        Column("id", "ID"),
        Column("deleted_at", "Deleted", sortable=True),
        Column("deferment_end", "Protected until", sortable=True),
        Column("source", "Source"),
    )

    @property
    def title(self) -> str:
        where = f"{self.pool}/{self.namespace}" if self.namespace else f"pool {self.pool}"
        return f"Trash of {where}"

    def fetch(self, query: ListQuery) -> ListPage:
        found = trash.trash_list(**self.service_args(), pool=self.pool, namespace=self.namespace)
        return page_of(
            found,
            query,
            search_key=lambda entry: entry.name,
            sort_keys={column.key: attrgetter(column.key) for column in self.columns if column.sortable},
        )

    def get_context_data(self) -> dict[str, Any]:
        return {
            "pool": self.pool,
            "namespace": self.namespace,
            "auto_purge_note": trash.trash_auto_purge_note(cluster=self.cluster),
        }


class TrashRestoreView(CephClusterMixin, ServiceActionView):
    def perform(self):
        return trash.trash_restore(
            **self.service_args(), pool=self.pool, namespace=self.namespace, image_id=self.kwargs["image_id"]
        )

    def success_message(self, image) -> str:
        return f"Image {image.name} restored from the trash."

    def success_url(self, image) -> str:
        return self.url("image-list", self.pool)


class TrashRestoreAsView(CephClusterMixin, ServiceFormView):
    """Restore with an optional new name: the way back when the old name has been taken again."""

    form_class = storage_forms.TrashRestoreForm
    template_name = "storage/trash_restore.html"
    submit_label = "Restore"

    @property
    def title(self) -> str:
        return f"Restore from the trash of {self.pool}"

    def load(self) -> dict[str, Any]:
        image_id = self.kwargs["image_id"]
        entries = trash.trash_list(**self.service_args(), pool=self.pool, namespace=self.namespace)
        found = [entry for entry in entries if entry.id == image_id]
        if not found:
            raise NotFound(
                f"The trash of {self.pool}{'/' + self.namespace if self.namespace else ''} has no "
                f"entry {image_id}; it may have been restored or purged meanwhile.",
                code="trash_entry_not_found",
                component="ceph",
            )
        return {"entry": found[0], "pool": self.pool, "namespace": self.namespace}

    def get_form_kwargs(self) -> dict[str, Any]:
        return {"old_name": self.loaded["entry"].name}

    def perform(self, form: forms.Form):
        return trash.trash_restore(
            **self.service_args(),
            pool=self.pool,
            namespace=self.namespace,
            image_id=self.kwargs["image_id"],
            new_name=form.cleaned_data["new_name"],
        )

    def success_message(self, image) -> str:
        old_name = self.loaded["entry"].name
        if image.name == old_name:
            return f"Image {image.name} restored from the trash."
        return f"Image {old_name} restored from the trash as {image.name}."

    def success_url(self, image) -> str:
        return self.url("image-detail", self.pool, image.name)

    def back_url(self) -> str:
        return self.url("trash-list", self.pool)


class TrashPurgeView(CephClusterMixin, ConfirmView):
    """Purges the entries whose protection has ended (no typing: only what may go goes), or with force
    every entry (typed name: the pool's), or one entry with force (typed name: the image's)."""

    submit_label = "Purge"
    force = False

    @property
    def image_id(self) -> str | None:
        return self.kwargs.get("image_id")

    @property
    def forced(self) -> bool:
        return self.force or self.image_id is not None

    def load(self) -> dict[str, Any]:
        if self.image_id is None:
            return {"entry_name": None}
        entries = trash.trash_list(**self.service_args(), pool=self.pool, namespace=self.namespace)
        named = [entry.name for entry in entries if entry.id == self.image_id]
        return {"entry_name": named[0] if named else self.image_id}

    @property
    def title(self) -> str:
        if self.image_id:
            return f"Purge from the trash of {self.pool}"
        return (
            f"Empty the trash of {self.pool}" if self.forced else f"Purge expired entries from the trash of {self.pool}"
        )

    @property
    def warning(self) -> str:
        if not self.forced:
            return (
                "Purging removes every entry whose protection has ended for good; protected entries stay. "
                "This cannot be undone."
            )
        what = f"image {self.loaded['entry_name']}" if self.image_id else "every image in this trash"
        return f"Purging removes {what} for good, even while it is protected. This cannot be undone."

    def typed_name(self) -> str | None:
        if not self.forced:
            return None
        return self.loaded["entry_name"] if self.image_id else self.pool

    def perform(self, form: forms.Form):
        return trash.trash_purge(
            **self.service_args(),
            pool=self.pool,
            namespace=self.namespace,
            image_id=self.image_id,
            force=self.forced,
            confirm_name=form.cleaned_data.get("confirm_name") if self.forced else None,
        )

    def success_message(self, task) -> str:
        return "Purging the trash started."

    def back_url(self) -> str:
        return self.url("trash-list", self.pool)


class TrashAutoPurgeView(CephClusterMixin, ServiceFormView):
    """Whether the cluster's expired trash entries are purged on a schedule; reached from a trash page (`next`)."""

    form_class = storage_forms.TrashAutoPurgeForm
    template_name = "storage/trash_auto_purge.html"
    title = "Automatic trash purging"

    def load(self) -> dict[str, Any]:
        # The form changes every tenant's trash at once: no one else is shown it.
        tenancy.require_platform_admin(self.request.user, "turn automatic trash purging on or off")
        return {
            "auto_purge_note": trash.trash_auto_purge_note(cluster=self.cluster),
            "purge_minutes": settings.BERTH_TRASH_PURGE_MINUTES,
        }

    def get_initial(self) -> dict[str, Any]:
        return {"enabled": self.cluster.purge_expired_trash}

    def perform(self, form: forms.Form) -> CephCluster:
        return trash.trash_auto_purge_set(**self.service_args(), enabled=form.cleaned_data["enabled"])

    def success_message(self, cluster: CephCluster) -> str:
        return trash.trash_auto_purge_note(cluster=cluster)

    def back_url(self) -> str:
        return self.url("pool-list")

    def success_url(self, cluster: CephCluster) -> str:
        return self.cancel_url()


# --- Snapshot schedules ----------------------------------------------------------------------------


class SnapshotScheduleListView(CephClusterMixin, ServiceListView):
    template_name = "storage/snapshot_schedule_list.html"
    table_template = "storage/_snapshot_schedule_table.html"
    kept_params = ("namespace", "cluster")
    default_sort = "image"
    search_placeholder = "Search by image"
    columns = (
        Column("image", "Image", sortable=True),
        Column("frequency", "Frequency", sortable=True),
        Column("keep", "Keep", sortable=True),
        Column("next_run", "Next run", sortable=True),
        Column("last_run", "Last run", sortable=True),
        Column("last_outcome", "Last outcome"),
    )

    @property
    def title(self) -> str:
        where = f"{self.pool}/{self.namespace}" if self.namespace else f"pool {self.pool}"
        return f"Snapshot schedules of {where}"

    def fetch(self, query: ListQuery) -> ListPage:
        found = snapshot_schedules.snapshot_schedule_list(
            **self.service_args(), pool=self.pool, namespace=self.namespace
        )
        return page_of(
            found,
            query,
            search_key=lambda schedule: schedule.image,
            sort_keys={column.key: attrgetter(column.key) for column in self.columns if column.sortable},
        )

    def get_context_data(self) -> dict[str, Any]:
        return {"pool": self.pool, "namespace": self.namespace}


class SnapshotScheduleCreateView(CephClusterMixin, ServiceFormView):
    form_class = storage_forms.SnapshotScheduleForm
    submit_label = "Create schedule"

    @property
    def title(self) -> str:
        where = f"{self.pool}/{self.namespace}" if self.namespace else f"pool {self.pool}"
        return f"New snapshot schedule in {where}"

    def get_initial(self) -> dict[str, Any]:
        return {"image": self.request.GET.get("image", "")}

    def perform(self, form: forms.Form):
        return snapshot_schedules.snapshot_schedule_create(
            **self.service_args(), pool=self.pool, namespace=self.namespace, **form.cleaned_data
        )

    def success_message(self, schedule) -> str:
        what = f"image {schedule.image}" if schedule.image else "every image in this namespace"
        return (
            f"Snapshots of {what} are taken {schedule.frequency}, keeping the newest {schedule.keep}; "
            "the first one within a few minutes."
        )

    def back_url(self) -> str:
        return self.url("snapshot-schedule-list", self.pool)


class SnapshotScheduleDeleteView(CephClusterMixin, ConfirmView):
    submit_label = "Delete schedule"

    def load(self) -> dict[str, Any]:
        schedule = snapshot_schedules.snapshot_schedule_get(
            **self.service_args(), pool=self.pool, namespace=self.namespace, schedule_id=self.kwargs["schedule_id"]
        )
        return {"schedule": schedule}

    @property
    def title(self) -> str:
        return f"Delete snapshot schedule {self.kwargs['schedule_id']}"

    @property
    def warning(self) -> str:
        return (
            f"No more snapshots are taken on this schedule ({self.loaded['schedule']}). The snapshots it took stay; "
            "delete them like any other."
        )

    def perform(self, form: forms.Form) -> None:
        snapshot_schedules.snapshot_schedule_delete(
            **self.service_args(), pool=self.pool, namespace=self.namespace, schedule_id=self.kwargs["schedule_id"]
        )

    def success_message(self, result: None) -> str:
        return "Snapshot schedule deleted; the snapshots it took stay."

    def back_url(self) -> str:
        return self.url("snapshot-schedule-list", self.pool)


# --- Tenant keys that outlived their binding (platform admins) ------------------------------------


class TenantKeyOrphanListView(CephClusterMixin, ServiceListView):
    title = "Tenant keys without a binding"
    template_name = "storage/tenant_key_orphan_list.html"
    table_template = "storage/_tenant_key_orphan_table.html"
    kept_params = ("cluster",)
    default_sort = "entity"
    search_placeholder = "Search by client, pool or namespace"
    columns = (
        Column("entity", "Ceph client", sortable=True),
        Column("pool", "Pool", sortable=True),
        Column("namespace", "Namespace", sortable=True),
        Column("reason", "Why it is listed"),
        Column("now_bound_to", "Place now bound to", sortable=True),
    )

    def fetch(self, query: ListQuery) -> ListPage:
        found = tenant_keys.tenant_key_orphan_list(**self.service_args())
        return page_of(
            found,
            query,
            search_key=lambda orphan: f"{orphan.entity} {orphan.pool} {orphan.namespace}",
            sort_keys={column.key: attrgetter(column.key) for column in self.columns if column.sortable},
        )


class TenantKeyOrphanRevokeView(CephClusterMixin, ConfirmView):
    submit_label = "Revoke key"

    @property
    def entity(self) -> str:
        return self.kwargs["entity"]

    @property
    def title(self) -> str:
        return f"Revoke {self.entity}"

    @property
    def warning(self) -> str:
        return (
            f"Ceph forgets {self.entity} at once: every workload still using its key loses access to the "
            "images it reaches."
        )

    def perform(self, form: forms.Form) -> None:
        tenant_keys.tenant_key_orphan_revoke(**self.service_args(), entity=self.entity)

    def success_message(self, result: None) -> str:
        return f"{self.entity} revoked."

    def back_url(self) -> str:
        return self.url("tenant-key-orphans")


# --- QoS, features, metadata ---------------------------------------------------------------------


class ImageQosView(ImageFormView):
    form_class = storage_forms.QosForm
    template_name = "storage/qos_form.html"
    submit_label = "Save limits"

    @property
    def title(self) -> str:
        return f"QoS of image {self.image}"

    def load(self) -> dict[str, Any]:
        return {**super().load(), "qos": qos.image_qos_get(**self.image_args(), name=self.image)}

    def get_form_kwargs(self) -> dict[str, Any]:
        return {"inherit_label": "inherit the pool's default"}

    def get_initial(self) -> dict[str, Any]:
        return {setting.option: setting.value for setting in self.loaded["qos"] if setting.source == "image"}

    def perform(self, form: forms.Form):
        return qos.image_qos_set(**self.image_args(), name=self.image, changes=dict(form.cleaned_data))

    def success_message(self, result) -> str:
        return f"QoS limits of {self.image} saved."


class PoolQosView(CephClusterMixin, ServiceFormView):
    form_class = storage_forms.QosForm
    template_name = "storage/qos_form.html"
    submit_label = "Save defaults"

    @property
    def title(self) -> str:
        return f"QoS defaults of pool {self.pool}"

    def load(self) -> dict[str, Any]:
        return {"qos": qos.pool_qos_get(**self.service_args(), pool=self.pool), "pool_defaults": True}

    def get_form_kwargs(self) -> dict[str, Any]:
        return {"inherit_label": "use the cluster's setting"}

    def get_initial(self) -> dict[str, Any]:
        return {setting.option: setting.value for setting in self.loaded["qos"] if setting.source == "pool"}

    def perform(self, form: forms.Form):
        return qos.pool_qos_set(**self.service_args(), pool=self.pool, changes=dict(form.cleaned_data))

    def success_message(self, result) -> str:
        return f"QoS defaults of pool {self.pool} saved."

    def back_url(self) -> str:
        return self.url("pool-detail", self.pool, namespace="")


class ImageFeaturesView(ImageFormView):
    form_class = storage_forms.ImageFeaturesForm
    submit_label = "Apply"

    @property
    def title(self) -> str:
        return f"Features of image {self.image}"

    def get_form_kwargs(self) -> dict[str, Any]:
        return {"current": self.loaded["image"].features}

    def perform(self, form: forms.Form):
        current = self.loaded["image"].features
        wanted = {name: value for name, value in form.cleaned_data.items() if not form.fields[name].disabled or value}
        # A feature that is off and cannot come back is not asked for at all.
        wanted = {name: value for name, value in wanted.items() if value or name in current}
        return features.image_features_update(**self.image_args(), name=self.image, features=wanted)

    def success_message(self, result) -> str:
        return f"Features of {self.image}: {', '.join(result) or 'none'}."


class ImageMetadataView(ImageFormView):
    form_class = storage_forms.MetadataForm
    template_name = "storage/metadata.html"
    submit_label = "Set"

    @property
    def title(self) -> str:
        return f"Metadata of image {self.image}"

    def load(self) -> dict[str, Any]:
        return {
            **super().load(),
            "entries": metadata.image_metadata_list(**self.image_args(), name=self.image),
            "pool": self.pool,
            "namespace": self.namespace,
        }

    def perform(self, form: forms.Form):
        return metadata.image_metadata_set(
            **self.image_args(), name=self.image, key=form.cleaned_data["key"], value=form.cleaned_data["value"]
        )

    def success_message(self, entry) -> str:
        return f"Metadata {entry.key} of {self.image} set."

    def success_url(self, entry) -> str:
        return self.url("image-metadata", self.pool, self.image)


class ImageMetadataRemoveView(ImageMixin, ConfirmView):
    submit_label = "Remove"

    @property
    def key(self) -> str:
        return self.kwargs["key"]

    @property
    def title(self) -> str:
        return f"Remove metadata {self.key} of {self.image}"

    @property
    def warning(self) -> str:
        return f"The value of {self.key} is lost."

    def perform(self, form: forms.Form):
        return metadata.image_metadata_remove(**self.image_args(), name=self.image, key=self.key)

    def success_message(self, result) -> str:
        return f"Metadata {self.key} of {self.image} removed."

    def back_url(self) -> str:
        return self.url("image-metadata", self.pool, self.image)
