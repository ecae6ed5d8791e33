"""Request and response shapes of the storage API. Field rules come from storage/validation.py,
so the API refuses exactly what the forms refuse, in the same words."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from dashboard.core.api.serializers import validated_by
from storage import validation
from storage.services import metadata, qos


class NameField(serializers.CharField):
    """Pool, image, snapshot and namespace names."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", None)
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError("Must be text.", code="invalid_name")
        return validated_by(validation.validate_object_name, data, field=self.field_name)


class NamespaceField(NameField):
    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("default", "")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return validated_by(validation.validate_namespace, data, field=self.field_name)


@extend_schema_field(
    {
        "oneOf": [{"type": "integer", "minimum": 0}, {"type": "string"}],
        "description": "Bytes, or a number with a binary unit, e.g. 10GiB",
    }
)
class SizeField(serializers.Field):
    """A size as bytes (integer) or text with a binary unit ("10GiB", "512 MiB")."""

    def __init__(self, *, allow_zero: bool = False, **kwargs):
        self.allow_zero = allow_zero
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if self.allow_zero:
            return validated_by(validation.validate_quota_bytes, data, field=self.field_name)
        return validated_by(validation.parse_size, data, field=self.field_name)

    def to_representation(self, value):
        return value


class PoolSerializer(serializers.Serializer):
    name = serializers.CharField()
    id = serializers.IntegerField()
    applications = serializers.ListField(child=serializers.CharField())
    size = serializers.IntegerField(help_text="Replicas")
    pg_num = serializers.IntegerField()
    stored_bytes = serializers.IntegerField()
    objects = serializers.IntegerField()
    quota_max_bytes = serializers.IntegerField(allow_null=True)
    quota_max_objects = serializers.IntegerField(allow_null=True)
    percent_used = serializers.FloatField()
    compression_mode = serializers.CharField(help_text="BlueStore compression: none, passive, aggressive, force")
    pg_autoscale_mode = serializers.CharField(help_text="PG autoscaler: on, warn, off")


class PoolOptionsSerializer(serializers.Serializer):
    compression_mode = serializers.ChoiceField(
        choices=list(validation.COMPRESSION_MODES),
        required=False,
        help_text="Applies to data written afterwards; absent keeps the current mode",
    )
    pg_autoscale_mode = serializers.ChoiceField(
        choices=list(validation.PG_AUTOSCALE_MODES), required=False, help_text="Absent keeps the current mode"
    )


class PoolCreateSerializer(PoolOptionsSerializer):
    name = NameField()
    pg_num = serializers.IntegerField(
        default=validation.DEFAULT_PG_NUM,
        min_value=1,
        max_value=validation.MAX_PG_NUM,
        help_text="Placement groups; a power of two",
    )
    max_bytes = SizeField(
        allow_zero=True, required=False, allow_null=True, help_text="Quota in bytes or with a unit; 0 or null for none"
    )
    max_objects = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, help_text="Quota of objects; 0 or null for none"
    )

    def validate_pg_num(self, value):
        return validated_by(validation.validate_pg_num, value, field="pg_num")


class PoolQuotaSerializer(serializers.Serializer):
    max_bytes = SizeField(allow_zero=True, required=False, allow_null=True)
    max_objects = serializers.IntegerField(required=False, allow_null=True, min_value=0)


class ConfirmSerializer(serializers.Serializer):
    confirm_name = serializers.CharField(help_text="The exact name of what is deleted", trim_whitespace=False)


class NamespaceSerializer(serializers.Serializer):
    name = NameField()


class ImageSerializer(serializers.Serializer):
    pool = serializers.CharField()
    namespace = serializers.CharField(allow_blank=True)
    name = serializers.CharField()
    id = serializers.CharField()
    size = serializers.IntegerField()
    used = serializers.IntegerField(allow_null=True, help_text="Allocated bytes when fast-diff makes it cheap")
    features = serializers.ListField(child=serializers.CharField())
    object_size = serializers.IntegerField()
    # DRF's serializer metaclass moves declared fields off the class, so this does not shadow Field.parent.
    parent = serializers.CharField(allow_null=True, help_text="pool/namespace/image@snapshot of a clone's parent")  # type: ignore[assignment]
    snapshot_count = serializers.IntegerField()
    created = serializers.DateTimeField(allow_null=True)


class ImagePageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ImageSerializer(many=True)


class ImageCreateSerializer(serializers.Serializer):
    name = NameField()
    size = SizeField(help_text="Bytes, or a number with a unit: MiB, GiB, TiB…")
    object_size = SizeField(
        required=False, default=validation.DEFAULT_OBJECT_SIZE, help_text="A power of two from 4 KiB to 32 MiB"
    )
    features = serializers.ChoiceField(choices=list(validation.FEATURE_PRESETS), default="default")

    def validate_object_size(self, value):
        return validated_by(validation.validate_object_size, value, field="object_size")


FORCE_IN_USE_HELP = (
    "Platform admins only: go ahead although a Kubernetes PersistentVolume names the image (refused otherwise, "
    "naming the volume, its claim and pods)."
)


class ImageUpdateSerializer(serializers.Serializer):
    size = SizeField(required=False, help_text="New size; shrinking needs allow_shrink")
    allow_shrink = serializers.BooleanField(default=False, help_text="Confirms a shrink, which destroys data")
    new_name = NameField(required=False)
    force_in_use = serializers.BooleanField(default=False, help_text=FORCE_IN_USE_HELP)


class ImageDeleteSerializer(serializers.Serializer):
    to_trash = serializers.BooleanField(default=True, help_text="Move to the RBD trash (restorable)")
    confirm_name = serializers.CharField(
        required=False,
        allow_null=True,
        trim_whitespace=False,
        help_text="The image's exact name, required when to_trash is false",
    )
    protect_days = serializers.IntegerField(
        default=0,
        min_value=0,
        max_value=validation.MAX_PROTECT_DAYS,
        help_text="Days the trash entry is protected from purging (only a forced purge removes it before)",
    )
    force_in_use = serializers.BooleanField(default=False, help_text=FORCE_IN_USE_HELP)


class ImageCopySerializer(serializers.Serializer):
    dest_pool = NameField()
    dest_namespace = NamespaceField(help_text="The copy's RBD namespace; the pool's default namespace if omitted")
    dest_name = NameField()


class SnapshotSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    size = serializers.IntegerField()
    protected = serializers.BooleanField()
    created = serializers.DateTimeField(allow_null=True)
    children = serializers.IntegerField()


class SnapshotCreateSerializer(serializers.Serializer):
    name = NameField()


class SnapshotRenameSerializer(serializers.Serializer):
    new_name = NameField()


class CloneSerializer(serializers.Serializer):
    dest_pool = NameField()
    dest_namespace = NamespaceField(help_text="The clone's RBD namespace; the pool's default namespace if omitted")
    dest_name = NameField()


class TrashEntrySerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    pool = serializers.CharField()
    namespace = serializers.CharField(allow_blank=True)
    deleted_at = serializers.DateTimeField(allow_null=True)
    deferment_end = serializers.DateTimeField(
        allow_null=True, help_text="Protected until: before this only a forced purge removes the entry"
    )
    protected = serializers.BooleanField(help_text="Whether the protection has not ended yet")
    # DRF's serializer metaclass moves declared fields off the class, so this does not shadow Field.source.
    source = serializers.CharField()  # type: ignore[assignment]


class TrashPurgeSerializer(serializers.Serializer):
    force = serializers.BooleanField(
        default=False, help_text="Also remove entries still protected; needs confirm_name. Otherwise only expired ones"
    )
    confirm_name = serializers.CharField(
        required=False,
        allow_null=True,
        trim_whitespace=False,
        help_text="With force: the entry's image name (one entry) or the pool's name (the whole trash)",
    )


class TrashRestoreSerializer(serializers.Serializer):
    new_name = NameField(required=False, allow_null=True)


class QosSettingSerializer(serializers.Serializer):
    option = serializers.CharField()
    value = serializers.IntegerField(help_text="What librbd applies; 0 is unlimited")
    # DRF's serializer metaclass moves declared fields off the class, so this does not shadow Field.source.
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=["default", "pool", "image"], help_text="Where the value comes from"
    )


def _qos_fields() -> dict[str, serializers.Field]:
    return {
        option: serializers.IntegerField(
            required=False,
            allow_null=True,
            min_value=0,
            max_value=qos.MAX_QOS_VALUE,
            help_text=f"{qos.qos_label(option)}; 0 unlimited, null drops the override, absent keeps it",
        )
        for option in qos.QOS_OPTIONS
    }


QosChangeSerializer = type("QosChangeSerializer", (serializers.Serializer,), _qos_fields())


class FeatureChangeSerializer(serializers.Serializer):
    features = serializers.DictField(
        child=serializers.BooleanField(),
        help_text="Feature -> wanted state, for exclusive-lock, object-map, fast-diff, deep-flatten (off only); "
        "features not named keep their state",
    )


class MetadataEntrySerializer(serializers.Serializer):
    key = serializers.CharField()
    value = serializers.CharField(allow_blank=True)
    managed_by_qos = serializers.BooleanField(help_text="A conf_ key, changed through the QoS endpoint")


class MetadataValueSerializer(serializers.Serializer):
    value = serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=metadata.MAX_VALUE_LENGTH)


class SnapshotUsageSerializer(serializers.Serializer):
    name = serializers.CharField()
    used = serializers.IntegerField(help_text="Bytes allocated since the snapshot before it")


class ImageUsageSerializer(serializers.Serializer):
    provisioned = serializers.IntegerField()
    used = serializers.IntegerField(allow_null=True, help_text="The head's allocation since the last snapshot")
    total = serializers.IntegerField(
        allow_null=True, help_text="Head and snapshots together, as `rbd du` shows; null without fast-diff"
    )
    snapshots = SnapshotUsageSerializer(many=True)


class SnapshotScheduleSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    pool = serializers.CharField()
    namespace = serializers.CharField(allow_blank=True)
    image = serializers.CharField(allow_blank=True, help_text="Empty: every image in the namespace")
    frequency = serializers.ChoiceField(choices=["hourly", "daily", "weekly"])
    keep = serializers.IntegerField()
    next_run = serializers.DateTimeField()
    last_run = serializers.DateTimeField(allow_null=True)
    last_outcome = serializers.CharField(
        allow_blank=True, help_text="ok, stopped_at_quota or problems; empty before the first run"
    )
    last_message = serializers.CharField(allow_blank=True, help_text="What the last run did, or what stopped it")


class SnapshotScheduleCreateSerializer(serializers.Serializer):
    image = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="One image; empty: every image in the namespace"
    )
    frequency = serializers.ChoiceField(choices=["hourly", "daily", "weekly"])
    keep = serializers.IntegerField(min_value=1, max_value=1000, help_text="Snapshots of this schedule kept per image")

    def validate_image(self, value):
        return validated_by(validation.validate_object_name, value, field="image") if value else ""
