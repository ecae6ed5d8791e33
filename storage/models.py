from django.core.exceptions import ValidationError
from django.db import models


class CephCluster(models.Model):
    """How Berth reaches one Ceph cluster.

    Two connection styles, as librados offers them: a ceph.conf plus a keyring, or a monitor
    address plus a file holding the client's key. Keys stay in files the operator controls;
    the database only ever holds their paths.
    """

    name = models.SlugField(max_length=64, unique=True,
                            help_text="Short name shown in Berth, e.g. 'prod-east'.")
    client_name = models.CharField(max_length=128, default="client.admin",
                                   help_text="The cephx entity Berth authenticates as, e.g. client.berth.")
    conf_path = models.CharField("ceph.conf path", max_length=1024, blank=True)
    keyring_path = models.CharField(max_length=1024, blank=True,
                                    help_text="Keyring holding the client's key (with ceph.conf).")
    mon_host = models.CharField(max_length=512, blank=True,
                                help_text="Monitor addresses, e.g. v2:10.0.0.1:3300 (instead of ceph.conf).")
    key_path = models.CharField(max_length=1024, blank=True,
                                help_text="File holding only the client's base64 key (with mon host).")
    is_default = models.BooleanField(default=False,
                                     help_text="The cluster shown on the overview when none is chosen.")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=models.Q(is_default=True),
                                    name="one_default_ceph_cluster"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        by_conf = bool(self.conf_path)
        by_mon = bool(self.mon_host)
        if by_conf == by_mon:
            raise ValidationError("Give either a ceph.conf path (with a keyring) or a monitor host "
                                  "(with a key file), not both and not neither.")
        if by_conf and not self.keyring_path:
            raise ValidationError({"keyring_path": "A keyring path is required with a ceph.conf path."})
        if by_mon and not self.key_path:
            raise ValidationError({"key_path": "A key file path is required with a monitor host."})
        if not self.client_name.startswith("client."):
            raise ValidationError({"client_name": "Ceph client names start with 'client.', e.g. client.berth."})
