"""An image's key/value metadata (`rbd image-meta`).

Keys starting with `conf_` are librbd configuration overrides (QoS among them): they are listed
here but set and removed through the QoS form, where librbd checks the option and its value.
"""

from dataclasses import dataclass

from dashboard.audit.services import audited_action
from dashboard.core.actors import Actor
from dashboard.core.errors import InvalidInput, NotFound
from dashboard.tenancy import services as tenancy
from storage.models import CephCluster
from storage.services import tenancy as storage_tenancy
from storage.services.connection import image_spec, open_image
from storage.services.errors import translate_ceph_errors

CONFIG_PREFIX = "conf_"
MAX_KEY_LENGTH = 255
MAX_VALUE_LENGTH = 64 * 1024


@dataclass(frozen=True)
class MetadataEntry:
    key: str
    value: str
    managed_by_qos: bool  # a `conf_` key: changed through the QoS form


def validate_metadata_key(key: object) -> str:
    if not isinstance(key, str) or not key:
        raise InvalidInput("key: must not be empty.", code="invalid_metadata_key", extra={"field": "key"})
    if len(key) > MAX_KEY_LENGTH or not key.isprintable() or key != key.strip():
        raise InvalidInput(
            f"key: printable text of at most {MAX_KEY_LENGTH} characters, without leading or trailing spaces.",
            code="invalid_metadata_key",
            extra={"field": "key"},
        )
    if key.startswith(CONFIG_PREFIX):
        raise InvalidInput(
            f"key: keys starting with {CONFIG_PREFIX} are librbd configuration overrides; change QoS limits on "
            "the image's QoS page, where librbd checks the option and its value.",
            code="metadata_key_reserved",
            extra={"field": "key"},
        )
    return key


def validate_metadata_value(value: object) -> str:
    if not isinstance(value, str) or len(value) > MAX_VALUE_LENGTH:
        raise InvalidInput(
            f"value: text of at most {MAX_VALUE_LENGTH} characters.",
            code="invalid_metadata_value",
            extra={"field": "value"},
        )
    return value


def image_metadata_list(
    *, actor: Actor, cluster: CephCluster, pool: str, namespace: str, name: str
) -> list[MetadataEntry]:
    storage_tenancy.storage_scope(actor=actor, cluster=cluster, pool=pool, namespace=namespace, role=tenancy.VIEWER)
    with open_image(cluster, pool, namespace, name, read_only=True) as image:
        with translate_ceph_errors(cluster.name, f"listing the metadata of {image_spec(pool, namespace, name)}"):
            pairs = list(image.metadata_list())
    return sorted(
        (MetadataEntry(key, value, key.startswith(CONFIG_PREFIX)) for key, value in pairs), key=lambda e: e.key
    )


@audited_action("storage.image.set_metadata", target=("cluster", "pool", "namespace", "name"), params=("key",))
def image_metadata_set(
    *, actor: Actor, cluster: CephCluster, pool: str, namespace: str, name: str, key: str, value: str
) -> MetadataEntry:
    key, value = validate_metadata_key(key), validate_metadata_value(value)
    storage_tenancy.storage_scope(actor=actor, cluster=cluster, pool=pool, namespace=namespace, role=tenancy.OPERATOR)
    with open_image(cluster, pool, namespace, name) as image:
        with translate_ceph_errors(cluster.name, f"setting metadata {key} of {image_spec(pool, namespace, name)}"):
            image.metadata_set(key, value)
    return MetadataEntry(key, value, False)


@audited_action("storage.image.remove_metadata", target=("cluster", "pool", "namespace", "name"), params=("key",))
def image_metadata_remove(
    *, actor: Actor, cluster: CephCluster, pool: str, namespace: str, name: str, key: str
) -> None:
    """Removing a value loses it: a tenant admin's call, like deleting anything else."""
    key = validate_metadata_key(key)
    storage_tenancy.storage_scope(actor=actor, cluster=cluster, pool=pool, namespace=namespace, role=tenancy.ADMIN)
    spec = image_spec(pool, namespace, name)
    with open_image(cluster, pool, namespace, name) as image:
        with translate_ceph_errors(cluster.name, f"removing metadata {key} of {spec}"):
            try:
                image.metadata_remove(key)
            except KeyError:
                raise NotFound(
                    f"Image {spec} has no metadata key {key}.", code="metadata_not_found", component="ceph"
                ) from None
