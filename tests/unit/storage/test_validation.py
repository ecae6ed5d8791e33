import pytest

from dashboard.core.errors import InvalidInput
from storage.validation import (
    EiB,
    GiB,
    KiB,
    MiB,
    TiB,
    parse_size,
    validate_confirmation,
    validate_feature_preset,
    validate_namespace,
    validate_object_name,
    validate_object_size,
    validate_pg_num,
    validate_quota_bytes,
    validate_quota_objects,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("name", ["vm-disk-1", "a", "x" * 255, "ümlaut_image.v2", "csi-vol-0e1f"])
def test_accepts_names_rbd_can_address(name):
    assert validate_object_name(name, field="name") == name


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("", "must not be empty"),
        ("x" * 256, "at most 255 characters"),
        ("pool/image", "slash"),
        ("image@snap", "at sign"),
        ("with space", "whitespace"),
        ("tab\there", "whitespace"),
        ("new\nline", "whitespace"),
        ("bell\x07", "control"),
        ("zero\u200bwidth", "control"),
        (42, "must be text"),
        (None, "must be text"),
    ],
)
def test_refuses_names_naming_field_and_rule(name, rule):
    with pytest.raises(InvalidInput) as caught:
        validate_object_name(name, field="image name")
    assert caught.value.message.startswith("image name:")
    assert rule in caught.value.message
    assert caught.value.code == "invalid_name"


def test_default_namespace_is_empty_and_others_follow_name_rules():
    assert validate_namespace("") == ""
    assert validate_namespace(None) == ""
    assert validate_namespace("tenant-a") == "tenant-a"
    with pytest.raises(InvalidInput, match="namespace: must not contain a slash"):
        validate_namespace("a/b")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4096", 4096),
        (4096, 4096),
        ("10GiB", 10 * GiB),
        ("512 MiB", 512 * MiB),
        ("1T", TiB),
        ("1.5 GiB", 1536 * MiB),
        ("2k", 2 * KiB),
        ("1EiB", EiB),
        (" 7 b ", 7),
    ],
)
def test_parses_sizes(text, expected):
    assert parse_size(text, field="size") == expected


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("0", "greater than 0"),
        (0, "greater than 0"),
        (-5, "greater than 0"),
        ("-1GiB", "not a size"),
        ("ten", "not a size"),
        ("", "not a size"),
        ("1.5", "whole number of bytes"),
        ("0.3KiB", "whole number of bytes"),
        ("1.0000001 KiB", "whole number of bytes"),
        ("2EiB", "at most 1 EiB"),
        (EiB + 1, "at most 1 EiB"),
        ("10GB", "unknown unit"),
        ("5 parsecs", "unknown unit"),
        (True, "must be a size"),
        (1.5, "must be a size"),
        (None, "must be a size"),
    ],
)
def test_refuses_bad_sizes_naming_field_and_rule(value, rule):
    with pytest.raises(InvalidInput) as caught:
        parse_size(value, field="size")
    assert caught.value.message.startswith("size:")
    assert rule in caught.value.message


@pytest.mark.parametrize("value", ["4KiB", "4MiB", "32MiB", 65536])
def test_accepts_object_sizes_librbd_supports(value):
    assert validate_object_size(value) == parse_size(value, field="x")


@pytest.mark.parametrize("value", ["1KiB", "64MiB", "3MiB"])
def test_refuses_other_object_sizes(value):
    with pytest.raises(InvalidInput, match="object_size: must be a power of two from 4 KiB to 32 MiB"):
        validate_object_size(value)


@pytest.mark.parametrize(("value", "expected"), [(32, 32), ("64", 64), (1, 1)])
def test_accepts_power_of_two_pg_counts(value, expected):
    assert validate_pg_num(value) == expected


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (0, "positive"),
        (-8, "positive"),
        ("x", "not a whole number"),
        (48, "power of two"),
        (65536, "at most"),
        (True, "whole number"),
    ],
)
def test_refuses_bad_pg_counts(value, rule):
    with pytest.raises(InvalidInput, match=rf"pg_num: .*{rule}"):
        validate_pg_num(value)


def test_quota_zero_or_none_clears_and_negative_is_refused():
    assert validate_quota_bytes(None) is None
    assert validate_quota_bytes(0) is None
    assert validate_quota_bytes("10GiB") == 10 * GiB
    assert validate_quota_objects("0") is None
    assert validate_quota_objects(1000) == 1000
    with pytest.raises(InvalidInput, match="max_objects: must not be negative"):
        validate_quota_objects(-1)
    with pytest.raises(InvalidInput, match="max_bytes: must be greater than 0"):
        validate_quota_bytes(-1)


def test_feature_presets():
    assert validate_feature_preset("minimal") == "minimal"
    with pytest.raises(InvalidInput, match="features: must be one of default, minimal, fast-diff"):
        validate_feature_preset("everything")


def test_confirmation_must_repeat_the_exact_name():
    validate_confirmation("prod-pool", expected="prod-pool")
    for wrong in (None, "", "prod-pool ", "PROD-POOL"):
        with pytest.raises(InvalidInput, match="type the exact name 'prod-pool'"):
            validate_confirmation(wrong, expected="prod-pool")
