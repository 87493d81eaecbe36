"""Appending to an mbox as MTAs do (fcntl lock plus dotlock), with a marker beside the file that holds the
last durable size: an append that died half way is undone by the next run, and only when nothing else can
have written since (our dotlock is still there); otherwise it stops with a clear error, losing nothing.
"""

import os
from typing import Optional, Tuple

from cockpit.mail.host.locking import DotLock, lock_file
from cockpit.mail.host.protocol import Fail, os_reason

MARKER_SUFFIX = ".cockpit-append"
"""Beside an mbox while the cockpit appends: the size before the append, so a crash can be undone."""


def read_marker(path: str) -> Optional[Tuple[int, str]]:
    """(committed size, token) of an append that did not finish, if its marker is there."""
    try:
        with open(path + MARKER_SUFFIX, "rb") as handle:
            words = handle.read(200).split()
    except OSError:
        return None
    if len(words) == 3 and words[0] == b"cockpit-append" and words[2].isdigit():
        return int(words[2]), words[1].decode("ascii", "replace")
    return None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def fsync_directory(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class MboxAppender:
    """Appends complete messages to one mbox under fcntl + dotlock; a marker holds the last durable size."""

    def __init__(self, path: str, token: str, owner: Tuple[int, int]) -> None:
        self.path = path
        self.token = token
        self.owner = owner
        self.fd = -1
        self.marker_fd = -1
        self.dotlock = DotLock(path, token)
        self.committed = 0
        self.durable = 0

    def open(self) -> None:
        earlier = read_marker(self.path)
        earlier_lock_ours = earlier is not None and self.dotlock.holder_is(earlier[1])
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
            if os.geteuid() == 0:
                os.fchown(self.fd, self.owner[0], self.owner[1])
        except FileExistsError:
            self.fd = os.open(self.path, os.O_RDWR)
        self.dotlock.acquire(earlier[1] if earlier else None)
        lock_file(self.fd, self.path, exclusive=True)
        if earlier is not None:
            recover_append(self.fd, self.path, earlier[0], earlier_lock_ours)
        self.committed = self.durable = os.fstat(self.fd).st_size
        self.marker_fd = os.open(self.path + MARKER_SUFFIX, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        self._mark()
        fsync_directory(os.path.dirname(self.path) or ".")
        if self.committed:
            tail = os.pread(self.fd, 2, self.committed - 2) if self.committed >= 2 else b"\n"
            pad = b"" if tail == b"\n\n" else (b"\n" if tail.endswith(b"\n") else b"\n\n")
            if pad:
                self._write(pad)

    def _mark(self) -> None:
        text = ("cockpit-append " + self.token + " " + str(self.durable) + "\n").encode("ascii")
        os.ftruncate(self.marker_fd, 0)
        os.pwrite(self.marker_fd, text, 0)
        os.fsync(self.marker_fd)

    def _write(self, data: bytes) -> None:
        try:
            os.lseek(self.fd, self.committed, os.SEEK_SET)
            _write_all(self.fd, data)
        except OSError:
            os.ftruncate(self.fd, self.committed)
            raise
        self.committed += len(data)

    def append(self, from_line: bytes, content: bytes) -> None:
        """Writes one message: From_ line, content, and the blank separator line."""
        self._write(from_line + b"\n" + content + (b"\n" if content.endswith(b"\n") else b"\n\n"))
        self.dotlock.refresh()

    def sync(self) -> None:
        """Makes what was appended durable, then moves the marker past it."""
        if self.durable != self.committed:
            os.fsync(self.fd)
            self.durable = self.committed
            self._mark()

    def close(self) -> None:
        if self.fd < 0:
            return
        try:
            self.sync()
            os.close(self.marker_fd)
            self.marker_fd = -1
            os.unlink(self.path + MARKER_SUFFIX)
            fsync_directory(os.path.dirname(self.path) or ".")
        finally:
            self.abandon()

    def abandon(self) -> None:
        """Releases everything; a marker still on disk makes the next run undo what was not made durable."""
        if self.marker_fd >= 0:
            os.close(self.marker_fd)
            self.marker_fd = -1
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        self.dotlock.release()


def recover_append(fd: int, path: str, committed: int, lock_was_ours: bool) -> None:
    """Undoes the tail of an interrupted append: truncates back to the last durable size when nothing else can
    have written since (our dotlock was still there); otherwise stops with a clear error, losing nothing."""
    size = os.fstat(fd).st_size
    if size <= committed:
        return
    if not lock_was_ours:
        raise Fail(
            "interrupted",
            path
            + ": an interrupted copy left "
            + str(size - committed)
            + " bytes after offset "
            + str(committed)
            + " and other mail may have been delivered since; check the end of the file by hand, then remove "
            + path
            + MARKER_SUFFIX,
        )
    try:
        os.ftruncate(fd, committed)
        os.fsync(fd)
    except OSError as exc:
        raise Fail("write", "cannot undo an interrupted copy in " + path + ": " + os_reason(exc)) from None
