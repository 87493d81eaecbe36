"""One cockpit per plan: an flock'ed lock file beside the journal naming who holds it.

flock is released by the kernel when the holder dies, so a lock file left by a killed cockpit is taken
over (with a warning naming the dead pid) while a live holder is refused with its pid, host and start time.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path

from cockpit.base.units import format_timestamp


class LockHeld(Exception):
    """Another cockpit runs this plan."""


class PlanLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self.took_over: dict[str, object] | None = None
        """What a stale lock said (pid, host, started) when this one replaced it."""

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe(_read(fd))
            pid = _read(fd).get("pid")
            os.close(fd)
            how = f" (q in its screen, or kill -TERM {pid})" if isinstance(pid, int) else ""
            plan = self.path.parent.parent / self.path.name.removesuffix(".lock")
            raise LockHeld(
                f"this plan is already being run by {holder}: one cockpit per plan — watch that run with "
                f"`cockpit observe {plan}`, or stop it first{how} and run again: its journal lets the new run "
                "resume where it stopped"
            ) from None
        previous = _read(fd)
        if previous:
            self.took_over = previous
        info = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Empty the lock file and unlock it. The file stays: deleting it would let a process that opened the
        old file and one that creates a new file both hold "the" lock at once."""
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _read(fd: int) -> dict[str, object]:
    try:
        data = os.pread(fd, 4096, 0)
        info = json.loads(data) if data.strip() else {}
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def _describe(info: dict[str, object]) -> str:
    if not info:
        return "another cockpit"
    started = info.get("started")
    when = format_timestamp(started) if isinstance(started, float | int) else "?"
    return f"pid {info.get('pid')} on {info.get('host')} (since {when})"


def describe_stale(info: dict[str, object]) -> str:
    return f"took over the lock left by {_describe(info)}, which is no longer running"


def lock_is_free(path: Path) -> bool:
    """No cockpit holds this lock now (the file may exist: a released lock is an empty file)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True
