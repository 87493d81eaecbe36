"""A host's mail store in the lab: one Maildir per user, `STORE/USER/{tmp,new,cur}`, under the host's sandbox.

The lab MTAs deliver as a local delivery agent does: the message is written and made durable under `tmp/`
with a unique name, then renamed into `new/`. The move's own steps (`sync`, `verify`, `canary`, `drain`) read
and write the same Maildirs over SSH, so a copy may carry another file name than the original: a message is
known by its `X-Lab-Id` header, and `ids` counts the copies of each id, so a duplicate is two files, never
hidden by an overwrite. Files without the header (the move's canaries) are mail, but not the lab's.
"""

from __future__ import annotations

import itertools
import os
import time
from collections import Counter
from pathlib import Path

ID_HEADER = "X-Lab-Id"
SUBDIRS = ("tmp", "new", "cur")
HEAD_BYTES = 8192
"""How much of a file is read to find its header."""
_SEQUENCE = itertools.count(1)


class MailStore:
    """The Maildirs of one host: `root/USER` for each user."""

    def __init__(self, root: Path, host: str = "lab") -> None:
        self.root = root
        self.host = host
        """Goes into delivered file names (`TIME.MmicrosPpidQn.HOST`), so two hosts never make the same name."""

    def maildir(self, user: str) -> Path:
        return self.root / user

    def create(self, user: str) -> Path:
        """An empty Maildir for `user` (kept as it is when it exists)."""
        folder = self.maildir(user)
        for sub in SUBDIRS:
            (folder / sub).mkdir(parents=True, exist_ok=True)
        return folder

    def deliver(self, user: str, data: bytes) -> Path:
        """Write under tmp/, make it durable, then rename into new/: a reader never sees half a message."""
        folder = self.create(user)
        now = time.time()
        name = f"{int(now)}.M{int(now % 1 * 1e6)}P{os.getpid()}Q{next(_SEQUENCE)}.{self.host}"
        temporary = folder / "tmp" / name
        with temporary.open("wb") as handle:
            handle.write(data.replace(b"\r\n", b"\n"))
            handle.flush()
            os.fsync(handle.fileno())
        final = folder / "new" / name
        temporary.rename(final)
        return final

    def messages(self) -> list[Path]:
        """Every message file (in new/ and cur/ of every user's Maildir; tmp/ and dot files are not mail)."""
        found: list[Path] = []
        if not self.root.is_dir():
            return found
        for user in sorted(self.root.iterdir()):
            for sub in ("new", "cur"):
                folder = user / sub
                if folder.is_dir():
                    found += [path for path in sorted(folder.iterdir()) if not path.name.startswith(".")]
        return found

    def ids(self) -> Counter[int]:
        """How many copies of each lab id the store holds."""
        found: Counter[int] = Counter()
        for path in self.messages():
            lab_id = _lab_id_in(path)
            if lab_id is not None:
                found[lab_id] += 1
        return found

    def paths_of(self, lab_id: int) -> list[Path]:
        """The files that hold message `lab_id` (a test removes one to see the tally and verify notice)."""
        return [path for path in self.messages() if _lab_id_in(path) == lab_id]


def _lab_id_in(path: Path) -> int | None:
    try:
        with path.open("rb") as handle:
            return lab_id_of(handle.read(HEAD_BYTES))
    except OSError:  # renamed (new/ → cur/) or removed while we looked
        return None


def lab_id_of(data: bytes) -> int | None:
    """The X-Lab-Id header of a message, if present."""
    head = data.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    for line in head.splitlines():
        name, sep, value = line.partition(b":")
        if sep and name.strip().lower() == ID_HEADER.lower().encode():
            try:
                return int(value.strip())
            except ValueError:
                return None
    return None
