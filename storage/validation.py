"""Rules for what an operator may type, shared by the DRF serializers and the Django forms.

Pure functions: each returns the cleaned value or raises InvalidInput whose message names the
field and the rule it broke, so the API and the UI explain a refusal in the same words.
"""

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from dashboard.core.errors import InvalidInput
from dashboard.core.units import format_binary_size

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
TiB = 1024 * GiB
PiB = 1024 * TiB
EiB = 1024 * PiB

MAX_NAME_LENGTH = 255
MIN_SIZE = 1
MAX_SIZE = EiB

# librbd accepts object sizes of 2^12 (4 KiB) to 2^25 (32 MiB); 4 MiB (order 22) is its default.
OBJECT_SIZES = tuple(2**order for order in range(12, 26))
DEFAULT_OBJECT_SIZE = 4 * MiB

# Named feature sets rather than free bitmasks: each is a combination librbd accepts as is
# (object-map needs exclusive-lock, fast-diff needs object-map).
FEATURE_PRESETS: dict[str, tuple[str, ...]] = {
    "default": ("layering", "exclusive-lock", "object-map", "fast-diff", "deep-flatten"),
    "minimal": ("layering",),
    "fast-diff": ("layering", "exclusive-lock", "object-map", "fast-diff"),
}
DEFAULT_FEATURE_PRESET = "default"

# BlueStore's per-pool compression modes and the PG autoscaler's modes, as `ceph osd pool set` takes them.
COMPRESSION_MODES = ("none", "passive", "aggressive", "force")
PG_AUTOSCALE_MODES = ("on", "warn", "off")

MAX_PG_NUM = 32768
DEFAULT_PG_NUM = 32

# Binary multiples only: "GB" is refused rather than guessed, since operators and tools
# disagree on whether it means 10^9 or 2^30.
_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": KiB,
    "kib": KiB,
    "m": MiB,
    "mib": MiB,
    "g": GiB,
    "gib": GiB,
    "t": TiB,
    "tib": TiB,
    "p": PiB,
    "pib": PiB,
    "e": EiB,
    "eib": EiB,
}
_SIZE_PATTERN = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$")
_FORBIDDEN_NAME_CHARACTERS = {"/": "a slash (/)", "@": "an at sign (@)"}


def validate_object_name(value: object, *, field: str) -> str:
    """Pool, image, snapshot and namespace names: what librbd and `rbd` CLI specs can address
    (`pool/namespace/image@snapshot` uses '/' and '@' as separators)."""
    if not isinstance(value, str):
        raise InvalidInput(f"{field}: must be text.", code="invalid_name", extra={"field": field})
    if value == "":
        raise InvalidInput(f"{field}: must not be empty.", code="invalid_name", extra={"field": field})
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidInput(
            f"{field}: must be at most {MAX_NAME_LENGTH} characters (got {len(value)}).",
            code="invalid_name",
            extra={"field": field},
        )
    for character in value:
        if character in _FORBIDDEN_NAME_CHARACTERS:
            raise InvalidInput(
                f"{field}: must not contain {_FORBIDDEN_NAME_CHARACTERS[character]}.",
                code="invalid_name",
                extra={"field": field},
            )
        if character.isspace():
            raise InvalidInput(f"{field}: must not contain whitespace.", code="invalid_name", extra={"field": field})
        if unicodedata.category(character).startswith("C"):
            raise InvalidInput(
                f"{field}: must not contain control or invisible characters (found U+{ord(character):04X}).",
                code="invalid_name",
                extra={"field": field},
            )
    return value


def validate_namespace(value: object, *, field: str = "namespace") -> str:
    """The default namespace is the empty string; any other follows the name rules."""
    if value in (None, ""):
        return ""
    return validate_object_name(value, field=field)


def parse_size(value: object, *, field: str) -> int:
    """'10GiB', '512 MiB', '1T', '1.5 GiB', 4096 (bytes) → bytes; whole bytes from 1 B to 1 EiB."""
    if isinstance(value, bool):
        raise InvalidInput(
            f"{field}: must be a size such as 10GiB or a number of bytes.", code="invalid_size", extra={"field": field}
        )
    multiplier: int | None
    if isinstance(value, int):
        amount, multiplier = Decimal(value), 1
    elif isinstance(value, str):
        match = _SIZE_PATTERN.match(value)
        if not match:
            raise InvalidInput(
                f"{field}: {value!r} is not a size; write a number with an optional unit "
                "(B, KiB, MiB, GiB, TiB, PiB, EiB), e.g. 10GiB.",
                code="invalid_size",
                extra={"field": field},
            )
        number, unit = match.groups()
        multiplier = _SIZE_UNITS.get(unit.lower())
        if multiplier is None:
            raise InvalidInput(
                f"{field}: unknown unit {unit!r}; use B, KiB, MiB, GiB, TiB, PiB or EiB "
                "(binary units; K, M, G, T also mean KiB, MiB, GiB, TiB).",
                code="invalid_size",
                extra={"field": field},
            )
        try:
            amount = Decimal(number)
        except InvalidOperation:  # pragma: no cover - the pattern admits only decimal numbers
            raise InvalidInput(
                f"{field}: {value!r} is not a number.", code="invalid_size", extra={"field": field}
            ) from None
    else:
        raise InvalidInput(
            f"{field}: must be a size such as 10GiB or a number of bytes.", code="invalid_size", extra={"field": field}
        )
    exact = amount * multiplier
    if exact != exact.to_integral_value():
        raise InvalidInput(
            f"{field}: {value} is not a whole number of bytes.", code="invalid_size", extra={"field": field}
        )
    size = int(exact)
    if size < MIN_SIZE:
        raise InvalidInput(f"{field}: must be greater than 0.", code="invalid_size", extra={"field": field})
    if size > MAX_SIZE:
        raise InvalidInput(
            f"{field}: must be at most 1 EiB (got {format_binary_size(size)}).",
            code="invalid_size",
            extra={"field": field},
        )
    return size


def validate_object_size(value: object, *, field: str = "object_size") -> int:
    size = parse_size(value, field=field)
    if size not in OBJECT_SIZES:
        raise InvalidInput(
            f"{field}: must be a power of two from 4 KiB to 32 MiB (got {format_binary_size(size)}).",
            code="invalid_object_size",
            extra={"field": field},
        )
    return size


def validate_feature_preset(value: object, *, field: str = "features") -> str:
    if value not in FEATURE_PRESETS:
        raise InvalidInput(
            f"{field}: must be one of {', '.join(FEATURE_PRESETS)} (got {value!r}).",
            code="invalid_features",
            extra={"field": field},
        )
    return value


def validate_pg_num(value: object, *, field: str = "pg_num") -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidInput(f"{field}: must be a whole number.", code="invalid_pg_num", extra={"field": field})
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(
            f"{field}: {value!r} is not a whole number.", code="invalid_pg_num", extra={"field": field}
        ) from None
    if number <= 0:
        raise InvalidInput(f"{field}: must be positive (got {number}).", code="invalid_pg_num", extra={"field": field})
    if number > MAX_PG_NUM:
        raise InvalidInput(
            f"{field}: must be at most {MAX_PG_NUM} (got {number}).", code="invalid_pg_num", extra={"field": field}
        )
    if number & (number - 1):
        raise InvalidInput(
            f"{field}: must be a power of two, e.g. 32 or 64 (got {number}).",
            code="invalid_pg_num",
            extra={"field": field},
        )
    return number


def validate_quota_objects(value: object, *, field: str = "max_objects") -> int | None:
    """None or 0 means no quota."""
    if value in (None, "", 0, "0"):
        return None
    if isinstance(value, bool):
        raise InvalidInput(f"{field}: must be a whole number.", code="invalid_quota", extra={"field": field})
    try:
        number = int(value)  # type: ignore[call-overload]  # whatever int() refuses is reported just below
    except (TypeError, ValueError):
        raise InvalidInput(
            f"{field}: {value!r} is not a whole number.", code="invalid_quota", extra={"field": field}
        ) from None
    if number < 0:
        raise InvalidInput(
            f"{field}: must not be negative (0 clears the quota).", code="invalid_quota", extra={"field": field}
        )
    return number


def validate_quota_bytes(value: object, *, field: str = "max_bytes") -> int | None:
    """None or 0 means no quota; otherwise a size like parse_size accepts."""
    if value in (None, "", 0, "0"):
        return None
    return parse_size(value, field=field)


def validate_confirmation(confirm: object, *, expected: str, field: str = "confirm_name") -> None:
    """Deletions that lose data go ahead only when the operator typed the exact name."""
    if confirm != expected:
        raise InvalidInput(
            f"{field}: type the exact name {expected!r} to confirm; this cannot be undone.",
            code="confirmation_mismatch",
            extra={"field": field},
        )


def validate_choice(value: object, *, field: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise InvalidInput(
            f"{field}: must be one of {', '.join(choices)} (got {value!r}).",
            code=f"invalid_{field}",
            extra={"field": field},
        )
    return str(value)


MAX_PROTECT_DAYS = 3650


def validate_protect_days(value: object, *, field: str = "protect_days") -> int:
    """Days a trash entry is protected from purging: a whole number from 0 (none) to ten years."""
    try:
        days = int(str(value))
    except ValueError:
        days = -1
    if isinstance(value, bool) or not 0 <= days <= MAX_PROTECT_DAYS:
        raise InvalidInput(
            f"{field}: give a whole number of days from 0 (no protection) to {MAX_PROTECT_DAYS} (got {value!r}).",
            code="invalid_protect_days",
            extra={"field": field},
        )
    return days
