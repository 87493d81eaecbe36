"""Headless output on stdout, one line per write, safe for a terminal, and aware of a reader that left."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable

from cockpit.base.safe_text import visible
from cockpit.headless.printer import HeadlessPrinter


class StdoutLines:
    """Writes lines to stdout. When the reader has gone (`cockpit run --headless | head -1`), the rest is
    dropped and `on_closed` is called once, so the run stops cleanly instead of hanging on a prompt."""

    def __init__(self) -> None:
        self.closed = False
        self.on_closed: Callable[[], None] | None = None

    def __call__(self, line: str) -> None:
        if self.closed:
            return
        try:
            sys.stdout.write(visible(line) + "\n")
            sys.stdout.flush()
        except BrokenPipeError:
            self.closed = True
            with contextlib.suppress(OSError):  # no second error when Python flushes stdout at exit
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                os.close(devnull)
            if self.on_closed is not None:
                self.on_closed()


def printer_to_stdout() -> HeadlessPrinter:
    return HeadlessPrinter(StdoutLines())
