"""Who outside Ceph uses an image: a hook the apps that know (dashboard/kubevolumes, for Kubernetes'
PersistentVolumes) register with in their AppConfig.ready, since the storage app knows none of them.

Storage services ask before an image is trashed, deleted, renamed or shrunk: a PersistentVolume naming it
would point at nothing, or at less than its claim was promised. Platform admins may force it (audited as
the service's `force_in_use` parameter)."""

from collections.abc import Callable
from dataclasses import dataclass

from dashboard.core.actors import Actor
from dashboard.core.errors import Conflict
from dashboard.tenancy import services as tenancy
from storage.models import CephCluster
from storage.services import tenancy as storage_tenancy
from storage.services.connection import image_spec


@dataclass(frozen=True)
class ImageUser:
    """A PersistentVolume naming an image, with its claim and the pods naming that claim."""

    kube_cluster: str
    volume: str
    claim: str  # namespace/name, or "" when none
    pods: tuple[str, ...]  # namespace/name
    static: bool

    def describe(self) -> str:
        said = f"PersistentVolume {self.volume} on Kubernetes cluster {self.kube_cluster}"
        if self.claim:
            said += f", claim {self.claim}"
        if self.pods:
            said += f", pod{'s' if len(self.pods) > 1 else ''} {', '.join(self.pods)}"
        return said


# Called with a place (cluster, pool, RBD namespace); answers {image name: its users} for the images used there.
ImageUsersLookup = Callable[[CephCluster, str, str], dict[str, list[ImageUser]]]

_lookups: list[ImageUsersLookup] = []


def register_image_users(lookup: ImageUsersLookup) -> None:
    if lookup not in _lookups:
        _lookups.append(lookup)


def image_users_in(cluster: CephCluster, pool: str, namespace: str) -> dict[str, list[ImageUser]]:
    """{image: users} over every registered lookup. A lookup that cannot answer (its Kubernetes cluster is
    unreachable) raises: whether an image is in use is not to be guessed."""
    found: dict[str, list[ImageUser]] = {}
    for lookup in _lookups:
        for image, users in lookup(cluster, pool, namespace).items():
            found.setdefault(image, []).extend(users)
    return found


def image_users(cluster: CephCluster, pool: str, namespace: str, name: str) -> list[ImageUser]:
    return image_users_in(cluster, pool, namespace).get(name, [])


def image_users_get(*, actor: Actor, cluster: CephCluster, pool: str, namespace: str, name: str) -> list[ImageUser]:
    """The image's users, for its page."""
    storage_tenancy.storage_scope(actor=actor, cluster=cluster, pool=pool, namespace=namespace, role=tenancy.VIEWER)
    return image_users(cluster, pool, namespace, name)


def refuse_if_in_use(
    *, actor: Actor, cluster: CephCluster, pool: str, namespace: str, name: str, doing: str, force: bool
) -> None:
    """Refuse `doing` to an image a PersistentVolume names, unless a platform admin forces it."""
    if force:
        tenancy.require_platform_admin(actor, f"{doing} an image Kubernetes uses")
        return
    users = image_users(cluster, pool, namespace, name)
    if users:
        raise Conflict(
            f"Image {image_spec(pool, namespace, name)} is used by Kubernetes: "
            f"{'; '.join(user.describe() for user in users)}. Delete the claim and the PersistentVolume first "
            f"(a platform admin may {doing} it anyway, with force_in_use).",
            code="image_in_use_by_kubernetes",
            component="kubernetes",
            extra={"volumes": [user.volume for user in users]},
        )
