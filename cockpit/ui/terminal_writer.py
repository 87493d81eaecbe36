"""Writing to a terminal that may vanish: the screen's output thread must never die and leave the app stuck.

Textual writes the screen through a background thread fed by a small bounded queue. When the terminal goes
away (the SSH session or tmux died), a write fails with EIO; the stock thread then ends, the queue fills,
and the next write — or the `stop()` at shutdown — blocks the event loop for ever, so not even SIGHUP or
SIGTERM can stop the run. This thread instead drops everything once the terminal is gone and raises
SIGHUP in its own process once, so the run stops as for any lost terminal (journal flushed, exit 129).
"""

from __future__ import annotations

import os
import signal

from textual.drivers import linux_driver
from textual.drivers._writer_thread import WriterThread


class TerminalWriter(WriterThread):
    gone = False
    """The terminal refused a write: everything from now on is dropped."""

    def write(self, text: str) -> None:
        if not self.gone:
            super().write(text)

    def run(self) -> None:
        try:
            super().run()
        except (OSError, ValueError):  # EIO, EPIPE, ENXIO; ValueError: the file was closed
            self.gone = True
            os.kill(os.getpid(), signal.SIGHUP)
            while self._queue.get() is not None:  # keep draining so that no writer ever blocks
                pass


def install() -> None:
    """Make Textual's Linux driver use this writer (idempotent; the driver looks the class up per start)."""
    setattr(linux_driver, "WriterThread", TerminalWriter)  # noqa: B010 (not a public attribute to assign)
