"""The bus listener of the UI: cheap, never raising, and never touching a widget.

The bus calls listeners synchronously inside the engine's task (and drops a listener that raises), so this
one only appends output lines to a bounded buffer and posts every other event as a message; the latest
transfer progress replaces the previous one instead of queueing, and stays shown until the next step starts.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.message import Message

from cockpit.engine.events import Event, OutputLine, StepChanged, TransferProgress
from cockpit.engine.states import StepState
from cockpit.ui.messages import EngineEvent
from cockpit.ui.output_buffer import OutputBuffer


class EventFeed:
    """Subscribed to the run's bus; `post` delivers a message to the cockpit screen."""

    critical = False
    """The bus may drop this listener on error rather than stop the run."""

    def __init__(self, buffer: OutputBuffer, post: Callable[[Message], bool]) -> None:
        self.buffer = buffer
        self.post = post
        self.transfer: TransferProgress | None = None
        """The most recent transfer progress; the output pane reads it on each repaint."""

    def __call__(self, event: Event) -> None:
        if isinstance(event, OutputLine):
            self.buffer.append(event.step_id, event.host, event.stream, event.text)
            return
        if isinstance(event, TransferProgress):
            self.transfer = event
            return
        if isinstance(event, StepChanged) and event.state == StepState.RUNNING:
            self.transfer = None  # steps run one at a time: a transfer's bar stays up until the next step starts
            attempt = f"(attempt {event.attempt})" if event.attempt > 1 else ""
            self.buffer.section(event.step_id, "", attempt)
        self.post(EngineEvent(event))
