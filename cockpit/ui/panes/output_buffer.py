"""Job output held outside the widget: the engine appends at any rate, the pane takes batches to paint.

A line costs the engine one bounded `deque.append` of the event it published, nothing else: a flood of
millions of lines must leave the event loop free for keys. Separators, and any other work a line needs,
happen when the pane takes a batch, and only for the lines that are still within the bounds by then.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from cockpit.engine.events import OutputLine

DEFAULT_LIMIT = 10_000


class LineKind(StrEnum):
    """A line's `stream`: the engine's three, and the buffer's separators."""

    STDOUT = "stdout"
    STDERR = "stderr"
    INFO = "info"
    SEPARATOR = "separator"


class Line(Protocol):
    """One output line: the engine's OutputLine as published, or a separator the buffer added."""

    @property
    def stream(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def step_id(self) -> str: ...
    @property
    def host(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Separator:
    """The rule naming the step (and host) whose output follows."""

    text: str
    step_id: str
    host: str = ""
    stream: str = LineKind.SEPARATOR


def separator(step_id: str, host: str, note: str = "") -> Separator:
    """`step · host (attempt 2)`; no host for the cockpit's own remarks."""
    title = f"{step_id} · {host}" if host else step_id
    return Separator(f"{title} {note}".rstrip(), step_id, host)


class OutputBuffer:
    """Pending lines (filled by the event feed) and kept lines (shown by the pane), each bounded."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self.pending: deque[Line] = deque(maxlen=limit)
        """Appended to by the feed; the oldest fall out when the pane does not take them in time."""
        self.lines: deque[Line] = deque(maxlen=limit)
        self.received = 0
        """Output lines ever appended, those that fell out of the bounds included."""
        self._taken = 0
        self._last_step: str | None = None

    def append(self, line: OutputLine) -> None:
        """One output line (the event feed does the same inline, to spare a call per line)."""
        self.pending.append(line)
        self.received += 1

    def section(self, step_id: str, host: str, note: str = "") -> None:
        """A separator before the output of a step starting (again): `note` says which attempt."""
        self.pending.append(separator(step_id, host, note))

    def take(self) -> tuple[list[Line], int, int]:
        """Move pending lines into the kept history.

        Returns the new lines (with a separator wherever the step changes), how many old kept lines fell
        out, and how many output lines fell out of the pending bound before the pane could take them."""
        arrived, self._taken = self.received - self._taken, self.received
        if not self.pending:
            return [], 0, arrived
        pending = list(self.pending)
        self.pending.clear()
        batch: list[Line] = []
        last = self._last_step
        outputs = 0
        for line in pending:
            if line.stream == LineKind.SEPARATOR:
                last = line.step_id
            else:
                outputs += 1
                if line.step_id != last:
                    last = line.step_id
                    batch.append(separator(last, "" if line.stream == LineKind.INFO else line.host))
            batch.append(line)
        self._last_step = last
        batch = batch[-self.limit :]
        overflow = min(max(0, len(self.lines) + len(batch) - self.limit), self.limit)
        self.lines.extend(batch)
        return batch, overflow, max(0, arrived - outputs)
