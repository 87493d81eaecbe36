"""A hostile corpus of mail stores, and an independent check of what a store holds.

The check reads stores with Python's `mailbox` module and normalises messages with its own line-based code,
so it shares nothing with the host program it checks.
"""

from __future__ import annotations

import base64
import mailbox
import os
from collections import Counter
from pathlib import Path
from typing import Any

ATTACHMENT = base64.encodebytes(os.urandom(3 * 1024 * 1024))
"""A multi-MB attachment, base64 as mail carries it."""


def hostile_messages() -> list[bytes]:
    """Messages that break naive movers: From lines, quoting, CRLF, 8-bit, no ID, shared IDs, a big one."""
    big = (
        b"From: big@example.com\nSubject: attachment\nMessage-ID: <big@example.com>\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="b1"\n\n--b1\nContent-Type: text/plain\n\nsee attached\n'
        b"--b1\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
        + ATTACHMENT
        + b"--b1--\n"
    )
    return [
        b"From: a@example.com\nSubject: from lines\nMessage-ID: <from-lines@example.com>\n\n"
        b"From the beginning\nsome text\nFrom someone@example.com Mon Jan  1 00:00:00 2024\nend\n",
        b"From: a@example.com\nSubject: quoted already\nMessage-ID: <quoted@example.com>\n\n>From quoted already\nx\n",
        b"From: c@example.com\r\nSubject: crlf\r\nMessage-ID: <crlf@example.com>\r\n\r\nline one\r\nFrom crlf\r\n",
        "From: ö@example.com\nSubject: Grüße aus Köln\nMessage-ID: <8bit@example.com>\n\nÄpfel und Öl\n".encode(),
        b"From: e@example.com\nSubject: =?UTF-8?B?R3LDvMOfZQ==?=\nMessage-ID: <2047@example.com>\n\nencoded\n",
        b"From: e@example.com\nSubject: empty body\nMessage-ID: <empty@example.com>\n\n",
        big,
        b"From: n@example.com\nSubject: no id one\n\nfirst without id\n",
        b"From: n@example.com\nSubject: no id two\n\nsecond without id\n",
        b"From: s@example.com\nSubject: same id A\nMessage-ID: <same@example.com>\n\nversion A\n",
        b"From: s@example.com\nSubject: same id B\nMessage-ID: <same@example.com>\n\nversion B\n",
        b"From: d@example.com\nSubject: duplicate\nMessage-ID: <dup@example.com>\n\nexact copy\n",
        b"From: d@example.com\nSubject: duplicate\nMessage-ID: <dup@example.com>\n\nexact copy\n",
    ]


MBOX_FLAGS = ["RO", "O", "", "RO", "O", "", "RO", "O", "RO", "", "O", "RO", "RO"]
MBOX_XFLAGS = ["A", "", "F", "", "FA", "", "", "", "D", "", "", "A", ""]
MAILDIR_FLAGS = ["S", "RS", "F", "", "T", "DS", "S", "FS", "", "S", "RS", "S", "S"]


def write_mbox(path: Path, messages: list[bytes], start: int = 0) -> None:
    """Appends messages as an MTA would (Python's mailbox: From_ line, `>From ` quoting, locking)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    box = mailbox.mbox(str(path))
    box.lock()
    try:
        for i, raw in enumerate(messages, start):
            message = mailbox.mboxMessage(raw)
            message.set_flags(MBOX_FLAGS[i % len(MBOX_FLAGS)] + MBOX_XFLAGS[i % len(MBOX_XFLAGS)])
            message.set_from("sender@example.com")
            box.add(message)
        box.flush()
    finally:
        box.unlock()
        box.close()


def write_maildir(root: Path, folders: dict[str, list[bytes]]) -> None:
    """A Maildir++ with flags, some mail in new/, and a half-written file in tmp/ that is not mail."""
    root.parent.mkdir(parents=True, exist_ok=True)
    box = mailbox.Maildir(str(root), create=True)
    for folder, messages in folders.items():
        target = box if not folder else box.add_folder(folder)
        for i, raw in enumerate(messages):
            message = mailbox.MaildirMessage(raw)
            flags = MAILDIR_FLAGS[i % len(MAILDIR_FLAGS)]
            message.set_subdir("new" if i % 5 == 3 and not flags else "cur")
            message.set_flags(flags)
            target.add(message)
    (root / "tmp" / "1700000000.M1P1.half").write_bytes(b"From: half@example.com\nSubject: half writ")


def build_sources(old: Path) -> dict[str, Any]:
    """The old host's stores: an mbox spool (alice, bob) and Maildirs (carol with folders, dave)."""
    messages = hostile_messages()
    write_mbox(old / "spool" / "alice", messages)
    write_mbox(old / "spool" / "bob", messages[:5])
    write_maildir(
        old / "home" / "carol" / "Maildir",
        {"": messages, "Sent": messages[:4], "Archive.2024": messages[7:], "&AMk-t&AOk-": messages[3:6]},
    )
    write_maildir(old / "home" / "dave" / "Maildir", {"": messages[4:9]})
    return {"spool": old / "spool", "home": old / "home"}


def canonical(raw: bytes) -> bytes:
    """The test's own normal form: LF endings, one `>From ` level off, no mbox status headers, no trailing
    blank lines."""
    lines = raw.replace(b"\r\n", b"\n").split(b"\n")
    lines = [line[1:] if line.startswith(b">From ") else line for line in lines]
    head, _, body = b"\n".join(lines).partition(b"\n\n")
    kept: list[bytes] = []
    skipping = False
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                kept.append(line)
            continue
        skipping = line.split(b":")[0].strip().lower() in (b"status", b"x-status")
        if not skipping:
            kept.append(line)
    return b"\n".join(kept) + b"\n\n" + body.rstrip(b"\n")


Entry = tuple[bytes, str, str]
"""(canonical content, subdir, flags as a Maildir shows them)."""


def _flags(message: mailbox.Message, mixed: bool) -> tuple[str, str]:
    converted = mailbox.MaildirMessage(message)
    flags = set(converted.get_flags())
    if mixed:
        flags &= set("FRST")
    return converted.get_subdir(), "".join(sorted(flags))


def mbox_contents(path: Path, mixed: bool = True) -> Counter[Entry]:
    box = mailbox.mbox(str(path))
    try:
        return Counter((canonical(box.get_bytes(key)), *_flags(box[key], mixed)) for key in box.iterkeys())
    finally:
        box.close()


def maildir_contents(root: Path, mixed: bool = False) -> dict[str, Counter[Entry]]:
    """Per folder ("" is the inbox); dot files in cur/ and new/ are not mail."""
    top = mailbox.Maildir(str(root), factory=None, create=False)
    found: dict[str, Counter[Entry]] = {}
    for name in ["", *top.list_folders()]:
        box = top if not name else top.get_folder(name)
        found[name] = Counter(
            (canonical(box.get_bytes(key)), *_flags(box[key], mixed))
            for key in box.iterkeys()
            if not key.startswith(".")
        )
    return found


def contents_only(entries: Counter[Entry]) -> Counter[bytes]:
    found: Counter[bytes] = Counter()
    for (content, _, _), n in entries.items():
        found[content] += n
    return found
