"""The headless face says what senders do while the downtime runs, as the full screen's countdown pane does:
once when the downtime starts, then whenever a step starts, never before it or after it ended."""

from __future__ import annotations

from cockpit.engine import events as ev
from cockpit.engine.states import StepState
from cockpit.headless.printer import HeadlessPrinter

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def started(at: float) -> ev.RunStarted:
    return ev.RunStarted(at, "move", "sha", "step", False, False, ("park", "copy", "flip"),
                         mx_states=("old", "parking", "new"))  # fmt: skip


def test_senders_lines_during_the_downtime_only() -> None:
    lines: list[str] = []
    printer = HeadlessPrinter(lines.append)
    printer(started(T0))
    printer(ev.StepChanged(T0 + 1, "park", StepState.RUNNING))
    assert not [line for line in lines if "senders:" in line], "before the downtime: nothing about senders"

    printer(ev.DnsFlip(T0 + 5, "example.com", "ns1", "old", "parking", 300))
    printer(ev.StepChanged(T0 + 6, "park", StepState.DONE))
    printer(ev.StepChanged(T0 + 75, "copy", StepState.RUNNING))
    printer(ev.DnsFlip(T0 + 200, "example.com", "ns1", "parking", "new", 300))  # every pair on new: over
    printer(ev.StepChanged(T0 + 201, "flip", StepState.RUNNING))

    senders = [line for line in lines if " senders: " in line]
    assert len(senders) == 2, lines
    assert senders[0].startswith("00:00:05 UTC senders: deferred 0ms since 00:00:05 UTC · next retries: ")
    assert senders[1].startswith("00:01:15 UTC senders: deferred 1m10s since 00:00:05 UTC · next retries: ")
    assert "Postfix" in senders[1] and "after the flip a sender may wait up to" in senders[1]
    assert lines.index(senders[1]) == lines.index(next(line for line in lines if "[copy] running" in line)) + 1
