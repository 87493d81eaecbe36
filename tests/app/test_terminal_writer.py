"""The screen's output thread when the terminal vanishes: writes and stop() must never block for ever."""

from __future__ import annotations

import errno
import signal
import threading

import pytest
from textual.drivers import linux_driver

from cockpit.ui import app as _app  # noqa: F401  (installs the writer)
from cockpit.ui.terminal_writer import TerminalWriter


class VanishedTerminal:
    def write(self, text: str) -> int:
        raise OSError(errno.EIO, "Input/output error")

    def flush(self) -> None:
        raise OSError(errno.EIO, "Input/output error")

    def fileno(self) -> int:
        return 1


def test_the_cockpit_uses_the_writer() -> None:
    assert linux_driver.WriterThread is TerminalWriter  # type: ignore[attr-defined]


def test_writes_after_the_terminal_vanished_are_dropped_and_stop_returns() -> None:
    hangups: list[int] = []
    previous = signal.signal(signal.SIGHUP, lambda signum, frame: hangups.append(signum))
    try:
        writer = TerminalWriter(VanishedTerminal())  # type: ignore[arg-type]
        writer.start()
        done = threading.Event()

        def flood() -> None:
            for _ in range(1000):  # far more than the stock thread's 30 queued writes
                writer.write("frame")
            writer.stop()
            done.set()

        threading.Thread(target=flood, daemon=True).start()
        assert done.wait(10), "a write or stop() blocked after the terminal vanished"
        assert writer.gone
        assert not writer.is_alive()
    finally:
        signal.signal(signal.SIGHUP, previous)
    assert hangups == [signal.SIGHUP], "the lost terminal is reported once, as a hangup"


@pytest.mark.parametrize("count", [0, 5])
def test_a_live_terminal_gets_every_write(count: int) -> None:
    written: list[str] = []

    class Terminal:
        def write(self, text: str) -> int:
            written.append(text)
            return len(text)

        def flush(self) -> None:
            pass

        def fileno(self) -> int:
            return 1

    writer = TerminalWriter(Terminal())  # type: ignore[arg-type]
    writer.start()
    for n in range(count):
        writer.write(str(n))
    writer.stop()
    assert written == [str(n) for n in range(count)] and not writer.gone
