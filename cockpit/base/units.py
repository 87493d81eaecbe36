"""How every figure reads, on the screen, in headless lines and in reports: one formatter per unit.

Sizes are decimal (kB, MB, GB), as transfer tools print them; rates are sizes per second; durations read like
the plan writes them (`90s` → `1m30s`, `250ms`); times carry the local time zone.
"""

from __future__ import annotations

import time

_SIZES = ("B", "kB", "MB", "GB", "TB")


def format_size(count: float) -> str:
    """`12 B`, `320.0 kB`, `1.5 GB`."""
    for unit in _SIZES:
        if count < 1000 or unit == _SIZES[-1]:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    raise AssertionError("unreachable")


def format_count(count: int) -> str:
    """`4,998`: counts of items, messages, mailboxes."""
    return f"{count:,}"


def format_rate(bytes_per_second: float) -> str:
    """`45.0 MB/s`."""
    return f"{format_size(bytes_per_second)}/s"


def format_duration(seconds: float) -> str:
    """The inverse of a plan's durations: `1h30m`, `90s` → `1m30s`, `0.5s` → `500ms`; under ten seconds with
    tenths (`4.2s`), where a second more or less matters (a lab's downtime, a forecast's parts)."""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms" if seconds < 0.995 else "1s"
    if seconds < 9.95:
        tenths = round(seconds, 1)
        return f"{tenths:.0f}s" if tenths == int(tenths) else f"{tenths:.1f}s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if hours:
        parts.append(f"{hours}h")
    if minutes:
        parts.append(f"{minutes}m")
    if secs or not parts:
        parts.append(f"{secs}s")
    return "".join(parts)


def format_clock(at: float) -> str:
    """The time of day with its zone, for live lines: `14:03:27 CET`."""
    return time.strftime("%H:%M:%S %Z", time.localtime(at))


def format_timestamp(at: float) -> str:
    """Date, time and zone, for reports and messages read later: `2026-12-01 14:03:27 CET`."""
    return time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(at))
