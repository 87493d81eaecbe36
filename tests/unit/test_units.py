"""One formatter per unit: sizes decimal, rates per second, durations as plans write them, times with a zone."""

from __future__ import annotations

import time

from cockpit.base.units import format_clock, format_duration, format_rate, format_size, format_timestamp


def test_sizes_are_decimal() -> None:
    assert [format_size(n) for n in (0, 999, 1000, 225_300, 32_900_000, 1.5e9, 3e15)] == [
        "0 B", "999 B", "1.0 kB", "225.3 kB", "32.9 MB", "1.5 GB", "3000.0 TB"
    ]  # fmt: skip


def test_rates_are_sizes_per_second() -> None:
    assert format_rate(45_000_000) == "45.0 MB/s"


def test_durations_read_as_a_plan_writes_them() -> None:
    assert [format_duration(s) for s in (0.25, 60, 90, 120, 3600, 5430)] == [
        "250ms",
        "1m",
        "1m30s",
        "2m",
        "1h",
        "1h30m30s",
    ]


def test_under_ten_seconds_durations_keep_their_tenths() -> None:
    assert [format_duration(s) for s in (1.0, 1.04, 4.25, 4.35, 9.94, 9.96, 12.4)] == [
        "1s", "1s", "4.2s", "4.3s", "9.9s", "10s", "12s"
    ]  # fmt: skip


def test_times_carry_their_zone() -> None:
    at = 1_800_000_000.0
    zone = time.strftime("%Z", time.localtime(at))
    assert format_clock(at).endswith(f" {zone}") and len(format_clock(at)) == 9 + len(zone)
    assert format_timestamp(at).startswith(time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at)))
    assert format_timestamp(at).endswith(zone)
