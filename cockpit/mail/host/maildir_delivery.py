"""Delivery into a Maildir that never shows a half file: each message is written under `tmp/`, made durable,
and only then renamed into `cur/` or `new/`.

Files are written in batches: one file-system flush (syncfs) makes a whole batch durable before any of it is
renamed, which costs far less than one fsync per message and keeps the same guarantee. (Flushing in a thread
while the next batch is written was measured slower: the flush then chases the new writes.)
"""

import os
import socket
import sys
import time
from typing import Callable, Dict, List, Optional, Set, Tuple

from cockpit.mail.host.maildir_format import (
    SUBDIRS,
    TMP_PREFIX,
    ensure_folder,
    info_suffix,
    remove_leftovers,
    split_name,
    unlink_quietly,
    write_failure,
)
from cockpit.mail.host.mbox_append import fsync_directory

BATCH_MESSAGES = 1024
BATCH_BYTES = 32 << 20
BATCH_SECONDS = 1.0
Staged = Tuple[int, str, str, str, str, str, int]
"""(seq, folder, tmp path, wanted unique name, flags, subdir, size)."""
Ack = Tuple[int, str, int]
"""(seq, `subdir/name` written, size)."""


def _syncfs_function() -> Optional[Callable[[int], int]]:
    """syncfs(2) through ctypes on Linux; None elsewhere (each file is then fsynced as it is written)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        function: Callable[[int], int] = ctypes.CDLL(None, use_errno=True).syncfs
        return function
    except (ImportError, OSError, AttributeError):
        return None


class MaildirWriter:
    """Delivers into one Maildir: stages files under tmp/, then flushes and renames a batch at a time."""

    def __init__(self, root: str, owner: Tuple[int, int], token: str) -> None:
        self.root = root
        self.owner = owner
        self.chown = os.geteuid() == 0 and owner != (os.geteuid(), os.getegid())
        self.token = token
        self.folders: Dict[str, str] = {}
        self.taken: Dict[str, Set[str]] = {}
        self.staged: List[Staged] = []
        self.staged_bytes = 0
        self.first_staged = 0.0
        self.tmp_counter = 0
        self.unique_counter = 0
        self.syncfs = _syncfs_function()
        self.hostname = socket.gethostname().replace("/", "\\057").replace(":", "\\072") or "localhost"

    def folder(self, folder: str) -> str:
        directory = self.folders.get(folder)
        if directory is None:
            directory = ensure_folder(self.root, folder, self.owner)
            remove_leftovers(directory)
            self.folders[folder] = directory
        return directory

    def stage(self, seq: int, folder: str, content: bytes, unique: str, flags: str, subdir: str, mtime: float) -> None:
        """Writes one message under tmp/; on failure (a full disk) nothing of it is left."""
        directory = self.folder(folder)
        self.tmp_counter += 1
        tmp = directory + "/tmp/" + TMP_PREFIX + self.token + "-" + str(self.tmp_counter)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            self.discard()
            raise write_failure(tmp, exc) from None
        try:
            view = memoryview(content)
            while view:
                view = view[os.write(fd, view) :]
            if self.syncfs is None:
                os.fsync(fd)
            if self.chown:
                os.fchown(fd, self.owner[0], self.owner[1])
            os.utime(fd, (mtime, mtime))
        except OSError as exc:
            os.close(fd)
            unlink_quietly(tmp)
            self.discard()
            raise write_failure(tmp, exc) from None
        os.close(fd)
        if not self.staged:
            self.first_staged = time.time()
        self.staged.append((seq, folder, tmp, unique, flags, subdir if subdir in SUBDIRS else "cur", len(content)))
        self.staged_bytes += len(content)

    def due(self) -> bool:
        return bool(self.staged) and (
            len(self.staged) >= BATCH_MESSAGES
            or self.staged_bytes >= BATCH_BYTES
            or time.time() - self.first_staged >= BATCH_SECONDS
        )

    def take(self) -> List[Staged]:
        batch, self.staged, self.staged_bytes = self.staged, [], 0
        return batch

    def commit(self) -> List[Ack]:
        """Places everything staged so far."""
        batch = self.take()
        return self.place(batch) if batch else []

    def discard(self) -> None:
        """Removes the staged files: they never reach cur/ or new/."""
        for staged in self.take():
            unlink_quietly(staged[2])

    def place(self, batch: List[Staged]) -> List[Ack]:
        """Makes a batch durable, then renames each file into place; on failure its files are removed."""
        try:
            self._flush()
            done: List[Ack] = []
            touched: Set[str] = set()
            for index, (seq, folder, tmp, unique, flags, subdir, size) in enumerate(batch):
                taken = self._taken(folder)
                if not unique or unique in taken or "/" in unique or unique.startswith("."):
                    unique = self._new_unique()
                while unique in taken:
                    unique = self._new_unique()
                name = subdir + "/" + unique + info_suffix(flags)
                target = self.folders[folder] + "/" + name
                try:
                    os.rename(tmp, target)
                except OSError as exc:
                    for staged in batch[index:]:
                        unlink_quietly(staged[2])
                    raise write_failure(target, exc) from None
                taken.add(unique)
                touched.add(self.folders[folder] + "/" + subdir)
                done.append((seq, name, size))
            for directory in touched:
                fsync_directory(directory)
            return done
        except BaseException:
            for staged in batch:
                unlink_quietly(staged[2])
            raise

    def _taken(self, folder: str) -> Set[str]:
        names = self.taken.get(folder)
        if names is None:
            names = set()
            for subdir in SUBDIRS:
                for name in os.listdir(self.folders[folder] + "/" + subdir):
                    names.add(split_name(name)[0])
            self.taken[folder] = names
        return names

    def _new_unique(self) -> str:
        self.unique_counter += 1
        now = time.time()
        return "%d.M%dP%dQ%d.%s" % (int(now), int((now % 1) * 1e6), os.getpid(), self.unique_counter, self.hostname)

    def _flush(self) -> None:
        if self.syncfs is None:
            return  # every file was fsynced as it was written
        fd = os.open(self.root, os.O_RDONLY)
        try:
            if self.syncfs(fd) != 0:
                import ctypes

                code = ctypes.get_errno()
                raise write_failure(self.root, OSError(code, os.strerror(code)))
        finally:
            os.close(fd)
