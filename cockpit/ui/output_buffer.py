"""Job output held outside the widget: the engine appends at any rate, the pane takes batches to paint.

Appending is O(1) and never touches the screen, so a flood of lines cannot starve key handling; both the
pending batch and the kept history are bounded.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import StrEnum

DEFAULT_LIMIT = 10_000


class LineKind(StrEnum):
    STDOUT = "stdout"
    STDERR = "stderr"
    INFO = "info"
    SEPARATOR = "separator"


@dataclass(frozen=True, slots=True)
class Line:
    kind: LineKind
    text: str
    step_id: str


class OutputBuffer:
    """Pending lines (filled by the event listener) and kept lines (shown by the pane), each bounded."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self.pending: deque[Line] = deque(maxlen=limit)
        self.lines: deque[Line] = deque(maxlen=limit)
        self.received = 0
        """Every line ever appended, including those that scrolled out of the bounds."""
        self._last_step: str | None = None

    def append(self, step_id: str, host: str, stream: str, text: str) -> None:
        """One output line; a separator goes first when the step changed."""
        if self._last_step != step_id:
            self.section(step_id, "" if stream == "info" else host)
        kind = LineKind.STDERR if stream == "stderr" else LineKind.INFO if stream == "info" else LineKind.STDOUT
        self.pending.append(Line(kind, text, step_id))
        self.received += 1

    def section(self, step_id: str, host: str, note: str = "") -> None:
        """A separator line naming the step (and host) whose output follows."""
        self._last_step = step_id
        title = f"{step_id} · {host}" if host else step_id
        self.pending.append(Line(LineKind.SEPARATOR, f"{title} {note}".rstrip(), step_id))

    def take(self) -> tuple[list[Line], int]:
        """Move pending lines into the kept history: (the new lines, how many old kept lines fell out)."""
        if not self.pending:
            return [], 0
        batch = list(self.pending)
        self.pending.clear()
        overflow = max(0, len(self.lines) + len(batch) - self.limit)
        self.lines.extend(batch)
        return batch[-self.limit :], min(overflow, self.limit)
