"""One SSH session of a lab host: a real `/bin/sh -c` child, its pipes (or a PTY) wired to the channel."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import struct
import termios
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import asyncssh

PTY_OUTPUT_GRACE = 1.0
"""Seconds to keep reading a PTY after its command exited (a background job may hold it open)."""


@dataclass(frozen=True)
class SessionRecord:
    """A finished command, as the host saw it: what ran, when, and how it ended."""

    command: str | None
    """The command line received (None for a shell)."""
    started: float
    ended: float
    """Seconds since the epoch."""
    status: int | None
    """Exit status; negative for a signal."""


class _Child(asyncio.SubprocessProtocol):
    """The child's pipes: output goes to the channel, full stdin pauses the channel."""

    def __init__(self, session: ShellSession) -> None:
        self._session = session

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        self._session.output(data, stderr=fd == 2)

    def pause_writing(self) -> None:
        self._session.pause_input(True)

    def resume_writing(self) -> None:
        self._session.pause_input(False)

    def connection_lost(self, exc: Exception | None) -> None:
        # The process exited and every pipe closed.
        self._session.child_done()


class _PtyReader(asyncio.Protocol):
    """The PTY master's output; EIO once every holder of the terminal is gone."""

    def __init__(self, session: ShellSession) -> None:
        self._session = session
        self.closed = asyncio.Event()

    def data_received(self, data: bytes) -> None:
        self._session.output(data, stderr=False)

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()


class ShellSession(asyncssh.SSHServerSession[bytes]):
    """Runs the requested command when the session starts and kills its process group when it ends."""

    def __init__(
        self,
        sandbox: Path,
        commands: list[str | None],
        registry: set[ShellSession],
        env: Mapping[str, str] | None = None,
        on_done: Callable[[SessionRecord], None] | None = None,
    ) -> None:
        self._sandbox = sandbox
        self._on_done = on_done
        self._started = 0.0
        self._env = dict(env or {})
        self._commands = commands
        self._registry = registry
        self._chan: asyncssh.SSHServerChannel[bytes] | None = None
        self._command: str | None = None
        self._pty: tuple[int, int] | None = None
        self._transport: asyncio.SubprocessTransport | None = None
        self._pty_in: asyncio.WriteTransport | None = None
        self._pty_out: asyncio.ReadTransport | None = None
        self._pty_reader: _PtyReader | None = None
        self._task: asyncio.Task[None] | None = None
        self._exited = asyncio.Event()
        self._early: list[bytes] = []
        """Input that arrived before the child existed (a fast sender, a slow fork); the channel is paused
        meanwhile, so at most one SSH window of it."""
        self._early_eof = False
        self._input_paused = False
        """The child's stdin pipe is full: the channel is not read until it has room."""
        self.pid: int | None = None
        self.running = False

    def describe(self) -> str:
        state = "running" if self.running else "ended" if self._exited.is_set() else "starting"
        waiting = f", {len(self._early)} early chunks" if self._early else ""
        eof = ", early EOF" if self._early_eof else ""
        return f"pid {self.pid} {state}{waiting}{eof}: {self._command}"

    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
        self._chan = chan
        self._registry.add(self)

    def pty_requested(self, term_type: str, term_size: tuple[int, int, int, int], term_modes: object) -> bool:
        self._pty = (term_size[0] or 80, term_size[1] or 24)
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        self._command = command
        return True

    def session_started(self) -> None:
        self._commands.append(self._command)
        self._started = time.time()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        assert self._chan is not None
        argv = ["/bin/sh", "-c", self._command] if self._command is not None else ["/bin/sh"]
        env = {**os.environ, "HOME": str(self._sandbox), "PWD": str(self._sandbox), **self._env}
        loop = asyncio.get_running_loop()
        try:
            if self._pty is None:
                self._transport, _ = await loop.subprocess_exec(
                    lambda: _Child(self), *argv, cwd=self._sandbox, env=env, start_new_session=True
                )
            else:
                await self._start_on_pty(argv, env)
        except OSError as exc:
            self._chan.write_stderr(f"cannot start: {exc}\n".encode())
            self._chan.exit(127)
            return
        assert self._transport is not None
        self._deliver_early_input()
        self.pid = self._transport.get_pid()
        self.running = True
        await self._exited.wait()
        if self._pty_reader is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._pty_reader.closed.wait(), PTY_OUTPUT_GRACE)
        self.running = False
        returncode = self._transport.get_returncode()
        if self._on_done is not None:
            self._on_done(SessionRecord(self._command, self._started, time.time(), returncode))
        if returncode is not None and returncode < 0:
            self._chan.exit_with_signal(signal.Signals(-returncode).name.removeprefix("SIG"))
        else:
            self._chan.exit(returncode if returncode is not None else 255)

    async def _start_on_pty(self, argv: list[str], env: dict[str, str]) -> None:
        master, slave = os.openpty()
        assert self._pty is not None
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", self._pty[1], self._pty[0], 0, 0))
        env = {**env, "TERM": "xterm"}
        loop = asyncio.get_running_loop()
        try:
            self._transport, _ = await loop.subprocess_exec(
                lambda: _Child(self),
                *argv,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                cwd=self._sandbox,
                env=env,
                preexec_fn=_take_terminal,
            )
        finally:
            os.close(slave)
        reader = self._pty_reader = _PtyReader(self)
        self._pty_out, _ = await loop.connect_read_pipe(lambda: reader, os.fdopen(master, "rb", 0))
        self._pty_in, _ = await loop.connect_write_pipe(asyncio.Protocol, os.fdopen(os.dup(master), "wb", 0))

    def output(self, data: bytes, *, stderr: bool) -> None:
        if self._chan is None or self._chan.is_closing():
            return
        if stderr:
            self._chan.write_stderr(data)
        else:
            self._chan.write(data)

    def child_done(self) -> None:
        self._exited.set()

    def pause_input(self, paused: bool) -> None:
        """The child's stdin pipe is full, or has room again. Reading resumes on the next loop turn, never from
        inside the pipe's callback: asyncio's write-pipe transport, when that callback writes and an EOF comes
        in during it, closes the pipe as soon as the callback returns, dropping the data it just buffered and
        leaving the closed descriptor registered with the event loop (whose next owner then fails)."""
        self._input_paused = paused
        if self._chan is None:
            return
        if paused:
            self._chan.pause_reading()
        else:
            asyncio.get_running_loop().call_soon(self._resume_input)

    def _resume_input(self) -> None:
        if not self._input_paused and self._chan is not None and not self._chan.is_closing():
            self._chan.resume_reading()

    def _child_ready(self) -> bool:
        return self._pty_in is not None or self._transport is not None

    def _deliver_early_input(self) -> None:
        early, self._early = self._early, []
        for data in early:
            self.data_received(data, None)
        if self._early_eof:
            self.eof_received()
        self._resume_input()  # unless the early input filled the pipe: then its room resumes reading

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        if not self._child_ready():
            self._early.append(data)
            if self._chan is not None:
                self._chan.pause_reading()
            return
        if self._pty_in is not None:
            self._pty_in.write(data)
        elif self._transport is not None:
            stdin = self._transport.get_pipe_transport(0)
            if stdin is not None and not stdin.is_closing():
                stdin.write(data)  # type: ignore[attr-defined]

    def eof_received(self) -> bool:
        if not self._child_ready():
            self._early_eof = True
            return True
        if self._pty_in is not None:
            self._pty_in.write(b"\x04")
        elif self._transport is not None:
            stdin = self._transport.get_pipe_transport(0)
            if stdin is not None:
                stdin.close()
        return True

    def pause_writing(self) -> None:
        self._reading(False)

    def resume_writing(self) -> None:
        self._reading(True)

    def _reading(self, on: bool) -> None:
        pipes: list[asyncio.BaseTransport | None] = [self._pty_out]
        if self._transport is not None:
            pipes += [self._transport.get_pipe_transport(1), self._transport.get_pipe_transport(2)]
        for pipe in pipes:
            if isinstance(pipe, asyncio.ReadTransport) and not pipe.is_closing():
                if on:
                    pipe.resume_reading()
                else:
                    pipe.pause_reading()

    def signal_received(self, signal_name: str) -> None:
        sig = getattr(signal, f"SIG{signal_name}", None)
        if isinstance(sig, signal.Signals):
            self.kill(sig)

    def break_received(self, msec: int) -> bool:
        self.kill(signal.SIGINT)
        return True

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        if self._pty_in is not None:
            fd = self._pty_in.get_extra_info("pipe").fileno()
            fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))

    def kill(self, sig: signal.Signals) -> None:
        """Sends `sig` to the command's whole process group."""
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, sig)

    def connection_lost(self, exc: Exception | None) -> None:
        # The channel is gone (closed, or the client vanished): nothing the command does can be seen any more.
        self.kill(signal.SIGKILL)
        self._registry.discard(self)
        for pipe in (self._pty_in, self._pty_out):
            if pipe is not None:
                pipe.close()
        if self._task is not None and not self._task.done():
            self._task.cancel()
        if self._transport is not None:
            self._transport.close()


def _take_terminal() -> None:
    """In the child: a new session whose controlling terminal is the PTY on stdin."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
