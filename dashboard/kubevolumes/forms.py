from django import forms

from dashboard.core.generic.forms import StyledForm
from registry.services.csi import FS_TYPES, RECLAIM_POLICIES, VOLUME_MODES


class BindingSetupForm(StyledForm):
    fs_type = forms.ChoiceField(
        label="File system", choices=[(value, value) for value in FS_TYPES], initial="ext4",
        help_text="What ceph-csi formats new volumes of the StorageClass with.",
    )  # fmt: skip
    reclaim_policy = forms.ChoiceField(
        choices=[(value, value) for value in RECLAIM_POLICIES],
        initial="Delete",
        help_text="Delete: removing a claim removes its image. Retain: the image stays until someone deletes it.",
    )
    resource_quotas = forms.BooleanField(
        label="Limit claims of the StorageClass with ResourceQuotas",
        required=False,
        help_text="Each of the tenant's namespaces may claim up to the tenant's storage quota of the class, every "
        "other namespace of the cluster nothing. Namespaces made later get none until this is written again.",
    )
    mint_key = forms.BooleanField(
        label="Mint a new Ceph key and write it into ceph-csi's Secret",
        required=False,
        help_text="Revokes the binding's current key first: volumes mapped with it stop working until their pods "
        "restart with the new one.",
    )


class ImageVolumeForm(StyledForm):
    kube_namespace = forms.ChoiceField(label="Kubernetes namespace")
    claim = forms.CharField(
        label="Claim name", max_length=253, help_text="The PersistentVolumeClaim pods will name, e.g. data."
    )
    volume_mode = forms.ChoiceField(
        choices=[(value, value) for value in VOLUME_MODES],
        initial="Filesystem",
        help_text="Block: the pod sees the raw device. Filesystem: ceph-csi mounts the image's file system.",
    )
    fs_type = forms.ChoiceField(
        label="File system", choices=[(value, value) for value in FS_TYPES], initial="ext4",
        help_text="The file system on the image (Filesystem mode); ceph-csi creates one if the image has none.",
    )  # fmt: skip

    def __init__(self, *args, namespaces: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["kube_namespace"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(name, name) for name in namespaces]
