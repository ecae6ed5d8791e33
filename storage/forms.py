"""Forms of the storage UI. Every rule comes from storage/validation.py, the module the API's
serializers use too, so a refusal reads the same in the browser and in an API response."""

from typing import TYPE_CHECKING, Any, cast

from django import forms

from dashboard.core.errors import InvalidInput
from dashboard.core.generic.forms import StyledForm, checked
from dashboard.core.units import format_binary_size
from storage import validation
from storage.models import SnapshotSchedule
from storage.services import features, metadata, qos

SIZE_UNITS = ("MiB", "GiB", "TiB")


def name_field(label: str, **kwargs: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=validation.MAX_NAME_LENGTH,
        strip=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        **kwargs,
    )


# A mixin for forms: the type checker sees its base, at run time it is a plain class.
if TYPE_CHECKING:
    _FormBase = forms.Form
else:
    _FormBase = object


class SizeFieldsMixin(_FormBase):
    """A size typed with or without its unit: "10" with GiB chosen, or "512 MiB" / "1.5TiB" typed."""

    size_field = "size"

    def clean(self) -> dict[str, Any]:
        # Form.clean() answers cleaned_data; its stub also allows None, for overrides that answer nothing.
        cleaned = cast(dict[str, Any], super().clean())
        typed = cleaned.get(self.size_field)
        if typed:
            text = typed.strip()
            with_unit = text if not text.replace(".", "", 1).isdigit() else f"{text} {cleaned.get('size_unit', 'GiB')}"
            try:
                cleaned[self.size_field] = validation.parse_size(with_unit, field=self.size_field)
            except InvalidInput as error:
                self.add_error(self.size_field, error.message)
        return cleaned


def size_fields(label: str, help_text: str) -> tuple[forms.CharField, forms.ChoiceField]:
    return (
        forms.CharField(label=label, help_text=help_text, widget=forms.TextInput(attrs={"inputmode": "decimal"})),
        forms.ChoiceField(
            label="Unit",
            choices=[(unit, unit) for unit in SIZE_UNITS],
            initial="GiB",
            help_text="Used when the size is typed without a unit.",
        ),
    )


class PoolQuotaForm(StyledForm):
    max_bytes = forms.CharField(
        label="Quota: maximum size", required=False, help_text="Optional, e.g. 100GiB. Empty or 0 means no quota."
    )
    max_objects = forms.IntegerField(
        label="Quota: maximum objects", required=False, min_value=0, help_text="Optional. Empty or 0 means no quota."
    )

    def clean_max_bytes(self) -> int | None:
        return checked(validation.validate_quota_bytes, self.cleaned_data["max_bytes"], field="max_bytes")

    def clean_max_objects(self) -> int | None:
        return checked(validation.validate_quota_objects, self.cleaned_data["max_objects"], field="max_objects")


class PoolOptionsForm(StyledForm):
    compression_mode = forms.ChoiceField(
        label="Compression",
        choices=[(mode, mode) for mode in validation.COMPRESSION_MODES],
        initial="none",
        help_text="BlueStore compresses what is written after the change; data already stored stays as it is.",
    )
    pg_autoscale_mode = forms.ChoiceField(
        label="PG autoscaling",
        choices=[(mode, mode) for mode in validation.PG_AUTOSCALE_MODES],
        initial="on",
        help_text="on: Ceph adjusts the placement groups; warn: it only warns; off: they stay as set.",
    )


class PoolCreateForm(PoolOptionsForm, PoolQuotaForm):
    """Options left at "cluster default" are not set, so the cluster's own defaults apply."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        modes = {"compression_mode": validation.COMPRESSION_MODES, "pg_autoscale_mode": validation.PG_AUTOSCALE_MODES}
        for name, choices in modes.items():
            field = cast(forms.ChoiceField, self.fields[name])
            field.required, field.initial = False, ""
            field.choices = [("", "cluster default"), *((mode, mode) for mode in choices)]

    def clean_compression_mode(self) -> str | None:
        return self.cleaned_data["compression_mode"] or None

    def clean_pg_autoscale_mode(self) -> str | None:
        return self.cleaned_data["pg_autoscale_mode"] or None

    name = name_field("Pool name")
    pg_num = forms.IntegerField(
        label="Placement groups",
        initial=validation.DEFAULT_PG_NUM,
        min_value=1,
        help_text="A power of two, e.g. 32 or 64.",
    )
    field_order = ["name", "pg_num", "max_bytes", "max_objects", "compression_mode", "pg_autoscale_mode"]

    def clean_name(self) -> str:
        return checked(validation.validate_object_name, self.cleaned_data["name"], field="name")

    def clean_pg_num(self) -> int:
        return checked(validation.validate_pg_num, self.cleaned_data["pg_num"], field="pg_num")


class NamespaceCreateForm(StyledForm):
    name = name_field("Namespace name")

    def clean_name(self) -> str:
        return checked(validation.validate_object_name, self.cleaned_data["name"], field="name")


class ImageCreateForm(SizeFieldsMixin, StyledForm):
    name = name_field("Image name")
    size, size_unit = size_fields("Size", "e.g. 10 with GiB chosen, or 512 MiB.")
    object_size = forms.TypedChoiceField(
        label="Object size",
        coerce=int,
        initial=validation.DEFAULT_OBJECT_SIZE,
        choices=[(size, format_binary_size(size)) for size in validation.OBJECT_SIZES],
        help_text="How librbd stripes the image over RADOS objects; 4 MiB suits most uses.",
    )
    features = forms.ChoiceField(
        label="Features",
        initial=validation.DEFAULT_FEATURE_PRESET,
        choices=[(name, f"{name}: {', '.join(features)}") for name, features in validation.FEATURE_PRESETS.items()],
    )

    def clean_name(self) -> str:
        return checked(validation.validate_object_name, self.cleaned_data["name"], field="name")

    def clean_object_size(self) -> int:
        return checked(validation.validate_object_size, self.cleaned_data["object_size"], field="object_size")

    def clean_features(self) -> str:
        return checked(validation.validate_feature_preset, self.cleaned_data["features"], field="features")


class ForceInUseForm(StyledForm):
    """A change the storage services refuse while a Kubernetes PersistentVolume names the image (delete, trash,
    rename, shrink). Once refused, a platform admin is offered to go ahead anyway (`offer_force`): ticking the box
    and typing the image's name, since the volume is then left pointing at nothing, or at less than promised."""

    force_in_use = forms.BooleanField(
        label="Go ahead although Kubernetes uses the image", required=False, widget=forms.HiddenInput
    )
    force_confirm_name = forms.CharField(
        label="Type the image name to go ahead anyway", required=False, strip=False, widget=forms.HiddenInput
    )

    def __init__(self, *args: Any, image_name: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.image_name = image_name
        # Here rather than in offer_force(): a bound field copies its help text when validation first reads it.
        self.fields["force_confirm_name"].help_text = f"Type “{image_name}” exactly."

    def offer_force(self) -> None:
        for name in ("force_in_use", "force_confirm_name"):  # below the fields of the change itself
            self.fields[name] = self.fields.pop(name)
        self.fields["force_in_use"].widget = forms.CheckboxInput(attrs={"class": "form-check-input"})
        self.fields["force_confirm_name"].widget = forms.TextInput(
            attrs={"class": "form-control", "autocomplete": "off", "spellcheck": "false"}
        )

    def clean(self) -> dict[str, Any]:
        # Form.clean() answers cleaned_data; its stub also allows None, for overrides that answer nothing.
        cleaned = cast(dict[str, Any], super().clean())
        if cleaned.get("force_in_use"):
            try:
                validation.validate_confirmation(
                    cleaned.get("force_confirm_name"), expected=self.image_name, field="force_confirm_name"
                )
            except InvalidInput as error:
                self.add_error("force_confirm_name", error.message)
        return cleaned


class ImageResizeForm(SizeFieldsMixin, ForceInUseForm):
    size, size_unit = size_fields("New size", "e.g. 20 with GiB chosen, or 1.5 TiB.")
    allow_shrink = forms.BooleanField(
        label="Shrink anyway: the data at the end of the image is lost", required=False, widget=forms.HiddenInput
    )

    def show_shrink_confirmation(self) -> None:
        self.fields["allow_shrink"].widget = forms.CheckboxInput(attrs={"class": "form-check-input"})


class ImageRenameForm(ForceInUseForm):
    new_name = name_field("New name")

    def clean_new_name(self) -> str:
        return checked(validation.validate_object_name, self.cleaned_data["new_name"], field="new_name")


class ImageDestinationForm(StyledForm):
    """Where a copy or a clone goes: any pool, any RBD namespace of it, a new name."""

    dest_pool = name_field("Destination pool")
    dest_namespace = forms.CharField(
        label="Destination namespace", required=False, strip=False, help_text="Empty for the pool's default namespace."
    )
    dest_name = name_field("New image name")

    def clean_dest_pool(self) -> str:
        return checked(validation.validate_object_name, self.cleaned_data["dest_pool"], field="dest_pool")

    def clean_dest_namespace(self) -> str:
        return checked(validation.validate_namespace, self.cleaned_data["dest_namespace"], field="dest_namespace")

    def clean_dest_name(self) -> str:
        return checked(validation.validate_object_name, self.cleaned_data["dest_name"], field="dest_name")


class ImageDeleteForm(ForceInUseForm):
    """Deleting moves the image to the RBD trash (restorable); removing it at once loses its data
    and so needs the typed name."""

    TRASH, REMOVE = "trash", "remove"
    mode = forms.ChoiceField(
        label="How",
        widget=forms.RadioSelect,
        initial=TRASH,
        choices=[(TRASH, "Move to the RBD trash (can be restored)"), (REMOVE, "Remove immediately (cannot be undone)")],
    )
    protect_days = forms.IntegerField(
        label="Protect in the trash for (days)",
        required=False,
        initial=0,
        min_value=0,
        max_value=validation.MAX_PROTECT_DAYS,
        help_text="Until then only a forced purge removes it. 0: it may be purged at once.",
    )
    confirm_name = forms.CharField(
        label="Type the image name to remove it immediately",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean(self) -> dict[str, Any]:
        # Form.clean() answers cleaned_data; its stub also allows None, for overrides that answer nothing.
        cleaned = super().clean()
        if cleaned.get("mode") == self.REMOVE:
            try:
                validation.validate_confirmation(cleaned.get("confirm_name"), expected=self.image_name)
            except InvalidInput as error:
                self.add_error("confirm_name", error.message)
        return cleaned


class SnapshotCreateForm(StyledForm):
    snapshot = name_field("Snapshot name")

    def clean_snapshot(self) -> str:
        return checked(validation.validate_object_name, self.cleaned_data["snapshot"], field="snapshot")


class SnapshotScheduleForm(StyledForm):
    image = forms.CharField(
        label="Image",
        required=False,
        help_text="Empty: every image in this namespace, including images created later.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    frequency = forms.ChoiceField(label="Frequency", choices=SnapshotSchedule.FREQUENCIES)
    keep = forms.IntegerField(
        label="Keep",
        min_value=1,
        max_value=1000,
        initial=24,
        help_text="How many of this schedule's snapshots to keep per image; older ones are deleted.",
    )

    def clean_image(self) -> str:
        typed = self.cleaned_data["image"]
        return checked(validation.validate_object_name, typed, field="image") if typed else ""


class TrashRestoreForm(StyledForm):
    """Restoring under another name is how an image comes back when its old name has been taken
    again since it was deleted."""

    new_name = name_field("Restore as", required=False)

    def __init__(self, *args: Any, old_name: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["new_name"].help_text = f"Optional. Empty restores the image as “{old_name}”."
        self.fields["new_name"].widget.attrs["placeholder"] = old_name

    def clean_new_name(self) -> str | None:
        typed = self.cleaned_data["new_name"]
        return checked(validation.validate_object_name, typed, field="new_name") if typed else None


def _first_upper(text: str) -> str:
    """Unlike str.capitalize, keeps "IOPS" upper case."""
    return text[:1].upper() + text[1:]


class QosForm(StyledForm):
    """One field per librbd QoS option; empty inherits (the pool's default, else the cluster's)."""

    def __init__(self, *args: Any, inherit_label: str = "inherit", **kwargs: Any):
        super().__init__(*args, **kwargs)
        for option in qos.QOS_OPTIONS:
            self.add_field(
                option,
                forms.IntegerField(
                    label=_first_upper(qos.qos_label(option)),
                    required=False,
                    min_value=0,
                    max_value=qos.MAX_QOS_VALUE,
                    help_text=f"rbd option {option}. 0 is unlimited; empty to {inherit_label}.",
                ),
            )


class ImageFeaturesForm(StyledForm):
    def __init__(self, *args: Any, current: list[str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        for name in features.MUTABLE_FEATURES:
            self.add_field(name, forms.BooleanField(label=name, required=False, initial=name in current))
        self.fields["exclusive-lock"].help_text = "Lets one client write at a time; object-map needs it."
        self.fields["object-map"].help_text = "Tracks which objects exist; rebuilt at once when enabled."
        self.fields["fast-diff"].help_text = "Fast usage and diffs; librbd switches it together with object-map."
        self.fields[
            "deep-flatten"
        ].help_text = "Lets a clone's snapshots be flattened too. Can only be disabled, which cannot be undone."
        if "deep-flatten" not in current:
            self.fields["deep-flatten"].disabled = True


class MetadataForm(StyledForm):
    key = forms.CharField(
        label="Key",
        max_length=metadata.MAX_KEY_LENGTH,
        strip=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    value = forms.CharField(
        label="Value", required=False, strip=False, max_length=metadata.MAX_VALUE_LENGTH, widget=forms.TextInput
    )

    def clean_key(self) -> str:
        return checked(metadata.validate_metadata_key, self.cleaned_data["key"])


class SnapshotRenameForm(StyledForm):
    new_name = name_field("New name")

    def clean_new_name(self) -> str:
        return checked(validation.validate_object_name, self.cleaned_data["new_name"], field="new_name")


class TrashAutoPurgeForm(StyledForm):
    enabled = forms.BooleanField(label="Purge expired trash entries automatically", required=False)
