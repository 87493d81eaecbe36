"""What a mail step reports while it runs: progress figures, and lines of text for the operator.

Text lines are `cockpit.ssh.OutputLines` (stream stdout), so the engine shows them as it shows any step's
output; every piece of text from a server in them has been made plain first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from cockpit.ssh import OutputLines

Phase = Literal["inventory", "copy"]


@dataclass(frozen=True, slots=True)
class MailProgress:
    """How far an inventory or a copy has come; a few times a second and once at the end of each phase."""

    timestamp: float
    phase: Phase
    store: str
    """The store being read (inventory) or written (copy)."""
    mailbox: str
    """The mailbox being worked on ("" when none in particular)."""
    messages_done: int
    messages_total: int
    """0 while an inventory runs: the total is what it finds out."""
    bytes_done: int
    bytes_total: int
    rate: float
    """Average bytes per second since the phase started."""
    eta: float | None
    """Seconds left at that rate; None when unknown."""
    mailbox_done: int = 0
    mailbox_total: int = 0


MailEvent = MailProgress | OutputLines
MailSink = Callable[[MailEvent], None]


def ignore_mail_events(event: MailEvent) -> None:
    """A sink for callers that only want the result."""
