import pytest

from dashboard.core.units import format_binary_size

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1 KiB"),
        (1536, "1.5 KiB"),
        (4 * 1024**2, "4 MiB"),
        (10 * 1024**3 + 1, "10.0 GiB"),
        (3 * 1024**4, "3 TiB"),
        (2 * 1024**6, "2 EiB"),
    ],
)
def test_binary_sizes_read_like_an_operator_writes_them(size, shown):
    assert format_binary_size(size) == shown
