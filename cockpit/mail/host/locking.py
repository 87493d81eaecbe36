"""Locks that keep a copy and a delivery (or an orphaned earlier copy) from interleaving.

A Maildir is locked with flock on its directory: the receiver holds it exclusively while it writes, and the
inventory of a destination waits for it, so a receiver left running by a cockpit that died finishes before
the next pass counts what is there. An mbox is locked as MTAs lock it: fcntl on the file plus a dotlock.
"""

import contextlib
import errno
import fcntl
import os
import time
from typing import Optional

from cockpit.mail.host.protocol import Fail

LOCK_WAIT = 120.0
"""Seconds to wait for a lock before giving up with a clear error."""
DOTLOCK_STALE = 600.0
"""A dotlock untouched for this long is stale (MTAs use 500 s); the holder refreshes it while it runs."""
_POLL = 0.05


def _locked_message(path: str) -> str:
    return path + " is locked by another program (waited " + str(int(LOCK_WAIT)) + " s)"


def lock_directory(path: str, exclusive: bool) -> int:
    """flock on a directory; returns the descriptor that holds the lock (close it to release)."""
    fd = os.open(path, os.O_RDONLY)
    mode = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB
    deadline = time.time() + LOCK_WAIT
    while True:
        try:
            fcntl.flock(fd, mode)
            return fd
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                os.close(fd)
                if exc.errno in (errno.EINVAL, errno.ENOLCK, errno.EOPNOTSUPP):
                    return -1
                raise
        if time.time() > deadline:
            os.close(fd)
            raise Fail("locked", _locked_message(path))
        time.sleep(_POLL)


def lock_file(fd: int, path: str, exclusive: bool) -> None:
    """fcntl (POSIX) lock on a whole file, as MTAs take it before they append to an mbox."""
    mode = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB
    deadline = time.time() + LOCK_WAIT
    while True:
        try:
            fcntl.lockf(fd, mode)
            return
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP):
                    return
                raise
        if time.time() > deadline:
            raise Fail("locked", _locked_message(path))
        time.sleep(_POLL)


class DotLock:
    """`PATH.lock`, created exclusively; a stale one (or our own, left by a copy that died) is taken over."""

    def __init__(self, path: str, token: str) -> None:
        self.path = path + ".lock"
        self.token = token
        self.held = False
        self._touched = 0.0

    def acquire(self, ours: Optional[str] = None) -> None:
        """Takes the lock; `ours` is the token of an earlier copy of ours whose lock may be taken over."""
        deadline = time.time() + LOCK_WAIT
        while True:
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except OSError as exc:
                if exc.errno in (errno.EACCES, errno.EROFS, errno.EPERM):
                    return  # the spool directory is not writable for us: fcntl alone, as MUAs do then
                if exc.errno != errno.EEXIST:
                    raise
                if self._take_over(ours):
                    continue
                if time.time() > deadline:
                    raise Fail("locked", _locked_message(self.path[: -len(".lock")])) from None
                time.sleep(_POLL)
                continue
            try:
                os.write(fd, ("cockpit " + self.token + "\n").encode("ascii"))
            finally:
                os.close(fd)
            self.held = True
            self._touched = time.time()
            return

    def _take_over(self, ours: Optional[str]) -> bool:
        try:
            with open(self.path, "rb") as handle:
                content = handle.read(200)
            age = time.time() - os.stat(self.path).st_mtime
        except OSError:
            return True  # it went away meanwhile: try again
        if (ours is not None and content.strip() == ("cockpit " + ours).encode("ascii")) or age > DOTLOCK_STALE:
            with contextlib.suppress(OSError):
                os.unlink(self.path)
            return True
        return False

    def holder_is(self, token: str) -> bool:
        """True when the lock file on disk is the one an earlier copy with `token` left."""
        try:
            with open(self.path, "rb") as handle:
                return handle.read(200).strip() == ("cockpit " + token).encode("ascii")
        except OSError:
            return False

    def refresh(self) -> None:
        """Keeps the lock from looking stale during a long copy."""
        now = time.time()
        if self.held and now - self._touched > 30:
            self._touched = now
            with contextlib.suppress(OSError):
                os.utime(self.path, None)

    def release(self) -> None:
        if self.held:
            self.held = False
            with contextlib.suppress(OSError):
                os.unlink(self.path)
