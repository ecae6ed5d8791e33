"""The pure rules behind QoS, feature changes and metadata keys."""

import pytest

from dashboard.core.errors import InvalidInput
from storage.services.features import FeatureChange, plan_feature_change
from storage.services.metadata import validate_metadata_key
from storage.services.qos import QOS_OPTIONS, qos_label, validate_qos_changes
from storage.services.snapshots import clone_v2_allowed_for

pytestmark = pytest.mark.unit

DEFAULT = ["layering", "exclusive-lock", "object-map", "fast-diff", "deep-flatten"]


def test_disabling_goes_dependents_first():
    change = plan_feature_change(DEFAULT, {"exclusive-lock": False, "object-map": False, "fast-diff": False})
    assert change == FeatureChange(enable=(), disable=("fast-diff", "object-map", "exclusive-lock"))


def test_enabling_goes_dependencies_first():
    change = plan_feature_change(["layering"], {"exclusive-lock": True, "object-map": True, "fast-diff": True})
    assert change == FeatureChange(enable=("exclusive-lock", "object-map", "fast-diff"), disable=())


def test_unchanged_wishes_plan_nothing():
    assert plan_feature_change(DEFAULT, {"object-map": True, "deep-flatten": True}).empty


@pytest.mark.parametrize(
    ("current", "wanted", "says"),
    [
        (DEFAULT, {"exclusive-lock": False}, "object-map needs exclusive-lock: disable object-map"),
        (["layering"], {"object-map": True, "fast-diff": True}, "enable exclusive-lock together"),
        (["layering", "exclusive-lock"], {"object-map": True}, "switches the two together"),
        (DEFAULT, {"fast-diff": False}, "switches the two together"),
        (["layering", "exclusive-lock"], {"deep-flatten": True}, "can only be disabled"),
        (DEFAULT, {"layering": False}, "cannot be changed after creation"),
        (DEFAULT, {"journaling": True}, "cannot be changed after creation"),
    ],
)
def test_refusals_name_the_rule(current, wanted, says):
    with pytest.raises(InvalidInput) as refused:
        plan_feature_change(current, wanted)
    assert says in refused.value.message
    assert refused.value.code == "feature_change_refused"


def test_an_image_with_object_map_but_no_fast_diff_may_still_change_its_lock_rules_elsewhere():
    change = plan_feature_change(["layering", "exclusive-lock", "object-map"], {"deep-flatten": False})
    assert change.empty


def test_qos_options_and_labels():
    assert len(QOS_OPTIONS) == 12 and "rbd_qos_write_bps_burst" in QOS_OPTIONS
    assert qos_label("rbd_qos_read_bps_burst") == "read bytes/s burst"
    assert qos_label("rbd_qos_iops_limit") == "IOPS limit"


@pytest.mark.parametrize("value", [-1, True, "10", 1.5])
def test_qos_values_must_be_whole_numbers(value):
    with pytest.raises(InvalidInput):
        validate_qos_changes({"rbd_qos_iops_limit": value})


def test_qos_none_drops_and_zero_is_unlimited():
    assert validate_qos_changes({"rbd_qos_iops_limit": None, "rbd_qos_bps_limit": 0}) == {
        "rbd_qos_iops_limit": None,
        "rbd_qos_bps_limit": 0,
    }


@pytest.mark.parametrize(
    ("key", "code"),
    [("", "invalid_metadata_key"), (" x", "invalid_metadata_key"), ("conf_rbd_cache", "metadata_key_reserved")],
)
def test_metadata_keys(key, code):
    with pytest.raises(InvalidInput) as refused:
        validate_metadata_key(key)
    assert refused.value.code == code


@pytest.mark.parametrize(
    ("release", "allowed"),
    [("luminous", False), ("jewel", False), ("mimic", True), ("Pacific", True), ("squid", True), ("", False)],
)
def test_clone_v2_needs_mimic_clients(release, allowed):
    assert clone_v2_allowed_for(release) is allowed
