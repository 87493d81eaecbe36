"""Messages that carry the engine's events into the Textual message queue."""

from __future__ import annotations

from textual.message import Message

from cockpit.engine.events import Event


class EngineEvent(Message):
    """One engine event (anything but output lines, which go through the output buffer)."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event
