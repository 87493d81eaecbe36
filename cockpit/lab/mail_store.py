"""A host's mail store in the lab: one file per delivered message under the host's sandbox directory.

File names carry the message's lab id and a unique suffix, so a message delivered twice shows up as two
files — duplicates are counted, never hidden by an overwrite.
"""

from __future__ import annotations

import os
import re
import uuid
from collections import Counter
from pathlib import Path

_ID = re.compile(r"^(\d+)\.[0-9a-f]+\.eml$")
ID_HEADER = "X-Lab-Id"


class MailStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def deliver(self, mailbox: str, lab_id: int, data: bytes) -> Path:
        """Write atomically (temporary name, then rename), as an MTA's local delivery does."""
        folder = self.root / mailbox
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{lab_id:07d}.{uuid.uuid4().hex[:12]}.eml"
        temporary = folder / f".{name}.tmp"
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        final = folder / name
        temporary.rename(final)
        return final

    def ids(self) -> Counter[int]:
        """How many copies of each lab id the store holds."""
        found: Counter[int] = Counter()
        if not self.root.exists():
            return found
        for path in self.root.rglob("*.eml"):
            match = _ID.match(path.name)
            if match:
                found[int(match.group(1))] += 1
        return found


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
