"""What the storage services return: plain frozen values, never binding objects, so views,
serializers and templates cannot reach past the service layer into librados/librbd."""

from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True)
class PoolInfo:
    name: str
    id: int
    applications: list[str]
    size: int  # replicas
    pg_num: int
    stored_bytes: int
    objects: int
    quota_max_bytes: int | None
    quota_max_objects: int | None
    percent_used: float
    compression_mode: str = "none"
    pg_autoscale_mode: str = ""


@dataclass(frozen=True)
class ImageInfo:
    pool: str
    namespace: str
    name: str
    id: str
    size: int
    used: int | None
    features: list[str]
    object_size: int
    parent: str | None  # "pool/namespace/image@snapshot"
    snapshot_count: int
    created: datetime | None


@dataclass(frozen=True)
class ImagePage:
    total: int
    items: list[ImageInfo] = field(default_factory=list)
    as_of: datetime | None = None  # the rows may be this old (the image list cache)


@dataclass(frozen=True)
class ImageRows:
    """A page of images, each as its JSON in the API's shape (see image_list_json)."""

    total: int
    items: list[bytes]
    as_of: datetime


@dataclass(frozen=True)
class SnapshotInfo:
    id: int
    name: str
    size: int
    protected: bool
    created: datetime | None
    children: int


@dataclass(frozen=True)
class TrashEntry:
    id: str
    name: str
    pool: str
    namespace: str
    deleted_at: datetime | None
    deferment_end: datetime | None
    source: str

    @property
    def protected(self) -> bool:
        """Whether only a forced purge may remove it yet."""
        return self.deferment_end is not None and self.deferment_end > datetime.now(UTC)
