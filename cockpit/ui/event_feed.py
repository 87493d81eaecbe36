"""The bus listener of the UI: cheap, never raising, and never touching a widget.

The bus calls listeners synchronously inside the engine's task, once per event, and a flooding job publishes
millions of output lines on the loop that also handles the keys. So an output line costs one bounded append
and nothing else (no object made, no message posted); the output pane picks the lines up in batches on its
repaint timer. An item of a step that fans out costs nothing when done and a few output lines when it fails.
Every other event is posted as a message; the latest transfer progress replaces the previous
one instead of queueing, and stays shown until the next step starts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

from textual.message import Message

from cockpit.base.safe_text import visible
from cockpit.engine.events import (
    DnsFlip,
    DnsTtl,
    Event,
    ItemDone,
    ItemFailed,
    Listener,
    OutputLine,
    StepChanged,
    TransferProgress,
)
from cockpit.engine.states import StepState
from cockpit.ui.messages import DnsFlips, EngineEvent
from cockpit.ui.panes.output_buffer import OutputBuffer

E = TypeVar("E", bound=Event)


class EventFeed:
    """Subscribe `listener` to the run's bus; `post` delivers a message to the cockpit screen."""

    def __init__(self, buffer: OutputBuffer, post: Callable[[Message], bool]) -> None:
        self.buffer = buffer
        self.post = post
        self.transfer: TransferProgress | None = None
        """The most recent transfer progress; the output pane reads it on each repaint."""
        self.flips: list[DnsFlip] = []
        """Flips not yet taken by the screen (one DnsFlips message per burst, not one per flip)."""
        self.listener: Listener = self._listener()
        """What the bus calls: a plain function, the fastest thing to call once per line (the bus drops it,
        rather than stop the run, should it ever raise)."""

    def _listener(self) -> Listener:
        buffer = self.buffer
        append = buffer.pending.append
        other = self.receive

        def feed(event: Event) -> None:
            if type(event) is OutputLine:
                append(event)
                buffer.received += 1
                return
            other(event)

        return feed

    def receive(self, event: Event) -> None:
        """Any event; output lines normally take the listener's shortcut instead."""
        if isinstance(event, OutputLine):
            self.buffer.append(event)
            return
        if isinstance(event, TransferProgress):
            self.transfer = event
            return
        if isinstance(event, DnsFlip):
            self.flips.append(shown_event(event))
            if len(self.flips) == 1:
                self.post(DnsFlips())
            return
        if isinstance(event, DnsTtl):  # one per pair when first seen: the screen shows TTLs from the rounds
            return
        if isinstance(event, ItemDone):  # thousands per step: the step's progress line counts them
            return
        if isinstance(event, ItemFailed):  # a line each, with its last lines, in the output (never a message)
            self.buffer.append(
                OutputLine(event.at, event.step_id, "cockpit", "stderr", f"✗ {event.item}: {event.reason}")
            )
            for line in event.lines:
                self.buffer.append(OutputLine(event.at, event.step_id, "cockpit", "stderr", f"    {line}"))
            return
        if isinstance(event, StepChanged) and event.state == StepState.RUNNING:
            self.transfer = None  # steps run one at a time: a transfer's bar stays up until the next step starts
            attempt = f"(attempt {event.attempt})" if event.attempt > 1 else ""
            self.buffer.section(event.step_id, "", attempt)
        self.post(EngineEvent(shown_event(event)))


def shown_event(event: E) -> E:
    """The event with every text field as the screen may show it (text from plans and servers; see safe_text)."""
    changes: dict[str, Any] = {}
    for item in dataclasses.fields(event):
        value = getattr(event, item.name)
        if isinstance(value, str) and not value.isprintable():
            changes[item.name] = visible(value)
        elif isinstance(value, tuple) and any(isinstance(v, str) and not v.isprintable() for v in value):
            changes[item.name] = tuple(visible(v) if isinstance(v, str) else v for v in value)
    return dataclasses.replace(event, **changes) if changes else event
