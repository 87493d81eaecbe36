"""`cockpit run --headless`: the run on a plain terminal or pipe, answering prompts from stdin.

SIGHUP and SIGTERM stop the run cleanly (journal flushed, exit 129 / 143); Ctrl+C stops at once when no
step is running, and asks for a second Ctrl+C when one is.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import termios
from collections.abc import Callable

from cockpit.base.safe_text import visible
from cockpit.engine.events import Asking, Event, EventBus, Notice
from cockpit.engine.headless import HeadlessPrinter
from cockpit.engine.run import PlanRun

KEYS = {
    "gate": {"y": "go", "s": "skip"},
    "confirm": {"y": "go", "s": "skip"},
    "failed": {"r": "retry", "s": "skip"},
    "interrupted": {"r": "rerun", "d": "mark-done", "s": "skip"},
}
MENUS = {
    "gate": "[y]es / [n]o, stop here / [s]kip",
    "confirm": "[y]es, done / [n]o, stop here / [s]kip",
    "failed": "[r]etry / [s]kip / [n]o, stop here",
    "interrupted": "[r]erun / [d]one already / [s]kip / [n]o, stop here",
}
SECOND_INTERRUPT_WINDOW = 3.0


class StdinAnswers:
    """Reads one line per prompt from stdin without blocking the event loop."""

    def __init__(self, run: PlanRun, write: Callable[[str], None]) -> None:
        self.run = run
        self.write = write
        self.reader: asyncio.StreamReader | None = None
        self.task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=64 * 1024)
        try:
            await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        except (ValueError, OSError):
            data = sys.stdin.read() if not sys.stdin.closed else ""
            reader.feed_data(data.encode())
            reader.feed_eof()
        self.reader = reader

    def __call__(self, event: Event) -> None:
        if isinstance(event, Asking) and (self.task is None or self.task.done()):
            self.task = asyncio.ensure_future(self._answer(event))

    async def _line(self, prompt: str) -> str | None:
        assert self.reader is not None
        self.write(prompt)
        try:
            data = await self.reader.readline()
        except (ValueError, OSError):
            return None
        return data.decode("utf-8", "replace").strip() if data else None

    async def _answer(self, asking: Asking) -> None:
        keys = KEYS[asking.kind]
        while self.run.prompt is not None and self.run.prompt.step_id == asking.step_id:
            line = await self._line(f"[{asking.step_id}] {asking.question} — {MENUS[asking.kind]}? ")
            if line is None:
                self.write("stdin closed: stopping (the journal lets you resume)")
                self.run.stop("stopped", 1)
                return
            choice = line[:1].lower()
            if choice == "n":
                self.run.stop("stopped", 1)
                return
            action = keys.get(choice)
            if action is None:
                self.write(f"answer one of: {MENUS[asking.kind]}")
                continue
            reason = ""
            if action == "skip":
                reason = await self._line("reason for skipping: ") or ""
                if not reason:
                    self.write("a skip needs a reason")
                    continue
            result = self.run.answer(action, reason)
            if not result.ok:
                self.write(result.message)
            return


def install_signals(run: PlanRun, bus: EventBus, now: Callable[[], float]) -> Callable[[], None]:
    loop = asyncio.get_running_loop()
    last_interrupt = [0.0]

    def on_interrupt() -> None:
        running = run.running_step()
        if running and now() - last_interrupt[0] > SECOND_INTERRUPT_WINDOW:
            last_interrupt[0] = now()
            text = (
                f"step {running} is running: press Ctrl+C again within {SECOND_INTERRUPT_WINDOW:g} s "
                "to stop it and the run (the journal lets you resume)"
            )
            bus.publish(Notice(now(), "warning", text))
            return
        run.stop("stopped", 130)

    handlers = {
        signal.SIGHUP: lambda: run.stop("stopped", 129),
        signal.SIGTERM: lambda: run.stop("stopped", 143),
        signal.SIGINT: on_interrupt,
    }
    for signum, handler in handlers.items():
        loop.add_signal_handler(signum, handler)

    def remove() -> None:
        for signum in handlers:
            loop.remove_signal_handler(signum)

    return remove


MAX_PASSPHRASE = 4096


async def terminal_passphrase(what: str) -> str | None:
    """Ask for an SSH key's passphrase on the controlling terminal (never echoed, never kept); None without one.

    Read on the event loop, not in a thread: a signal that stops the run cancels the question at once (a
    thread blocked in getpass would hold the process until Enter), and the terminal's echo is restored."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return None
    prompt = what if what.lower().startswith("passphrase") else f"passphrase for {what}"
    loop = asyncio.get_running_loop()
    try:
        saved = termios.tcgetattr(fd)
    except termios.error:
        os.close(fd)
        return None
    quiet = list(saved)
    quiet[3] &= ~(termios.ECHO | termios.ECHONL)
    answer = bytearray()
    done: asyncio.Future[bool] = loop.create_future()

    def readable() -> None:
        try:
            data = os.read(fd, 1024)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            if not done.done():
                done.set_result(False)
            return
        answer.extend(data)
        if (b"\n" in data or len(answer) > MAX_PASSPHRASE) and not done.done():
            done.set_result(True)

    try:
        termios.tcsetattr(fd, termios.TCSAFLUSH, quiet)
        os.write(fd, f"{prompt}: ".encode())
        os.set_blocking(fd, False)
        loop.add_reader(fd, readable)
        try:
            complete = await done
        finally:
            loop.remove_reader(fd)
            with contextlib.suppress(OSError):
                os.write(fd, b"\n")
    except OSError:
        complete = False
    finally:
        with contextlib.suppress(termios.error, OSError):
            termios.tcsetattr(fd, termios.TCSAFLUSH, saved)
        os.close(fd)
    text = bytes(answer).split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", "replace")
    answer[:] = bytes(len(answer))
    return text if complete and text else None


def over_ssh_outside_multiplexer() -> bool:
    """Started in an SSH session but not inside tmux or screen: a dropped connection stops the cockpit."""
    return bool(os.environ.get("SSH_CONNECTION")) and not (os.environ.get("TMUX") or os.environ.get("STY"))


EXIT_STDOUT_CLOSED = 141
"""128 + SIGPIPE: what a Unix tool whose output pipe closed exits with."""


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
