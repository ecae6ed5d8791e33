"""A paced header read (the periodic re-read of the image list) sleeps exactly as long as it has run ahead
of its rate, on a clock the test moves by hand."""

import pytest

from storage.services import headers

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def test_a_paced_read_waits_only_while_ahead_of_its_rate(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(headers, "time", clock)
    pace = headers._Pace(1000)
    pace.read(128)  # 128 reads done at once: 0.128 s ahead
    clock.now += 0.028  # the next batch took 28 ms to land
    pace.read(128)  # due at 0.256 s, now at 0.156 s
    clock.now += 0.5  # a slow batch: behind the rate, no pause
    pace.read(128)
    assert clock.slept == [0.128, 0.1]


def test_an_unpaced_read_never_sleeps(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(headers, "time", clock)
    pace = headers._Pace(None)
    for _ in range(10):
        pace.read(4096)
    assert clock.slept == []
