"""Binary sizes as operators write them (MiB, GiB, TiB)."""

_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]


def format_binary_size(size: int) -> str:
    """1536 → '1.5 KiB'; exact multiples drop the decimals ('4 MiB', not '4.0 MiB')."""
    value = float(size)
    unit = 0
    while abs(value) >= 1024 and unit < len(_UNITS) - 1:
        value /= 1024
        unit += 1
    if unit == 0 or value == int(value):
        return f"{int(value)} {_UNITS[unit]}"
    return f"{value:.1f} {_UNITS[unit]}"
