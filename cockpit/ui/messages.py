"""Messages that carry the engine's events into the Textual message queue."""

from __future__ import annotations

from textual.message import Message

from cockpit.engine.events import DnsRound, Event


class EngineEvent(Message):
    """One engine event (anything but output lines, which go through the output buffer)."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event

    def can_replace(self, message: Message) -> bool:
        """A round's snapshot is the whole picture: a newer one queued right behind it supersedes it."""
        newer = message.event if isinstance(message, EngineEvent) else None
        return isinstance(self.event, DnsRound) and isinstance(newer, DnsRound)


class DnsFlips(Message):
    """Flips wait in the event feed (`EventFeed.flips`); posted when the first of a burst arrives."""
