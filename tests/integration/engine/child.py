"""A cockpit command line running in a child process that a test watches line by line and may signal or kill,
while the test's own loop keeps serving the lab."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import signal
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cockpit.engine.journal import read_journal

WAIT = 30.0
"""Generous bound for anything a test waits on: a loaded machine is slow, never this slow."""


class Child:
    """`python -m cockpit ARGS` with stdout and stderr read as they come."""

    def __init__(self, process: asyncio.subprocess.Process, args: tuple[str, ...]) -> None:
        self.process = process
        self.args = args
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._news = asyncio.Event()
        self._readers = [
            asyncio.ensure_future(self._read(process.stdout, self.stdout)),
            asyncio.ensure_future(self._read(process.stderr, self.stderr)),
        ]

    @classmethod
    async def start(
        cls, *args: str, cwd: Path, stdin: int = asyncio.subprocess.DEVNULL, terminal: str | None = None
    ) -> Child:
        """Starts the command; with `terminal` (a pseudo-terminal's slave path) it becomes the controlling
        terminal of the child's new session, so /dev/tty is that terminal."""
        env = dict(os.environ)
        env.pop("SSH_AUTH_SOCK", None)
        env.pop("SSH_CONNECTION", None)
        preexec: Callable[[], None] | None = None
        if terminal is not None:
            preexec = _controlling_terminal(terminal)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "cockpit",
            *args,
            cwd=cwd,
            env=env,
            stdin=stdin,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=terminal is not None,
            preexec_fn=preexec,
        )
        return cls(process, args)

    async def _read(self, stream: asyncio.StreamReader | None, lines: list[str]) -> None:
        assert stream is not None
        while True:
            data = await stream.readline()
            if not data:
                break
            lines.append(data.decode("utf-8", "replace").rstrip("\n"))
            self._news.set()
        self._news.set()

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def out(self) -> str:
        return "\n".join(self.stdout)

    @property
    def err(self) -> str:
        return "\n".join(self.stderr)

    async def wait_line(self, predicate: Callable[[str], bool], timeout: float = WAIT) -> str | None:
        """The first stdout line that satisfies `predicate`; None when the child ended without one."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for line in self.stdout[seen:]:
                if predicate(line):
                    return line
            seen = len(self.stdout)
            if all(reader.done() for reader in self._readers):
                return None
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"cockpit {' '.join(self.args)}: no such line in {timeout:g} s:\n{self.out}")
            self._news.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._news.wait(), left)

    async def more(self, seen: int, timeout: float = WAIT) -> bool:
        """Waits for stdout lines beyond the first `seen`: False when stdout ended without more."""
        deadline = time.monotonic() + timeout
        while len(self.stdout) <= seen:
            if all(reader.done() for reader in self._readers):
                return len(self.stdout) > seen
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"cockpit {' '.join(self.args)}: silent for {timeout:g} s:\n{self.out}")
            self._news.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._news.wait(), left)
        return True

    async def wait(self, timeout: float = WAIT) -> int:
        """The exit status (negative: killed by that signal), with both streams read to their end."""
        try:
            code = await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            await asyncio.gather(*self._readers)
            raise AssertionError(f"cockpit {' '.join(self.args)} did not finish:\n{self.out}\n{self.err}") from None
        await asyncio.wait_for(asyncio.gather(*self._readers), timeout)
        return code

    def signal(self, signum: int) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signum)

    async def kill(self) -> int:
        self.signal(signal.SIGKILL)
        return await self.wait()


def _controlling_terminal(path: str) -> Callable[[], None]:
    def make_it_ours() -> None:
        # Runs in the child after setsid(): the first terminal a session leader opens becomes its own.
        fd = os.open(path, os.O_RDWR)
        fcntl.ioctl(fd, termios.TIOCSCTTY, 0)
        os.close(fd)

    return make_it_ours


def records(journal: Path) -> list[dict[str, Any]]:
    return list(read_journal(journal).records)


async def wait_record(journal: Path, predicate: Callable[[dict[str, Any]], bool], child: Child) -> dict[str, Any]:
    """Polls the journal until a record satisfies `predicate` (the child must still be running)."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        for record in records(journal):
            if predicate(record):
                return record
        if child.process.returncode is not None:
            raise AssertionError(f"the cockpit ended ({child.process.returncode}) first:\n{child.out}\n{child.err}")
        await asyncio.sleep(0.02)
    raise AssertionError(f"no such journal record in {WAIT:g} s:\n{child.out}")


async def eventually(predicate: Callable[[], bool], what: str) -> None:
    """Polls `predicate` until it holds, for at most WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {WAIT:g} s: {what}")
        await asyncio.sleep(0.02)


def lock_holder(lock: Path) -> dict[str, Any]:
    text = lock.read_text() if lock.exists() else ""
    return json.loads(text) if text.strip() else {}
