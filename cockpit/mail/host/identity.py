"""What makes two stored messages the same message, whatever the store format and its bookkeeping.

The digest covers the headers and the body after normalising what stores change on their own: line endings,
one level of mbox `>From ` quoting, trailing blank lines, and the headers mbox software adds to keep flags
and UIDs (so a flag change never changes identity).
"""

import hashlib
import re
from typing import Container, List, Optional, Tuple

IGNORED_HEADERS = frozenset(
    [b"status", b"x-status", b"x-keywords", b"x-uid", b"content-length", b"x-imap", b"x-imapbase"]
)
"""Bookkeeping fields of mbox software; left out of the digest."""
_MAYBE_IGNORED = re.compile(rb"(?:\A|\n)(?:status|x-status|x-keywords|x-uid|content-length|x-imap)", re.IGNORECASE)
"""Finds a header line that may be ignored; the line by line pass then decides exactly."""
DIGEST_BYTES = 16
MAX_MESSAGE_ID = 998
"""Characters of a Message-ID kept (the longest line RFC 5322 allows)."""


def split_message(data: bytes) -> Tuple[bytes, bytes]:
    """The header block (each line ending in LF) and the body of an LF-only message."""
    if data.startswith(b"\n"):
        return b"", data[1:]
    cut = data.find(b"\n\n")
    if cut < 0:
        return (data if data.endswith(b"\n") or not data else data + b"\n"), b""
    return data[: cut + 1], data[cut + 2 :]


def without_fields(header: bytes, names: Container[bytes]) -> bytes:
    """The header block without the fields named in `names` (lower case) and their continuation lines."""
    kept: List[bytes] = []
    skipping = False
    for line in header.splitlines(True):
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                kept.append(line)
            continue
        name = line.split(b":", 1)[0].strip().lower() if b":" in line else b""
        skipping = name in names
        if not skipping:
            kept.append(line)
    return b"".join(kept)


def _kept_header(header: bytes) -> bytes:
    """The header block without the ignored fields (and their continuation lines)."""
    if _MAYBE_IGNORED.search(header) is None:
        return header
    return without_fields(header, IGNORED_HEADERS)


def header_field(header: bytes, lowered: bytes, name: bytes) -> Optional[bytes]:
    """The first field `name` (lower case, without colon) of a header block, unfolded; None when absent."""
    if lowered.startswith(name):
        start = 0
    else:
        start = lowered.find(b"\n" + name)
        if start < 0:
            return None
        start += 1
    while True:
        colon = start + len(name)
        rest = lowered[colon : colon + 64].lstrip(b" \t")
        if rest.startswith(b":"):
            break
        start = lowered.find(b"\n" + name, start + 1)
        if start < 0:
            return None
        start += 1
    end = start
    while True:
        end = header.find(b"\n", end)
        if end < 0:
            end = len(header)
            break
        if header[end + 1 : end + 2] not in (b" ", b"\t"):
            break
        end += 1
    line = header[start:end]
    value = line.split(b":", 1)[1]
    return b" ".join(value.split())


def unquote_from(data: bytes) -> bytes:
    """Removes one level of mbox quoting: a line starting `>From ` starts `From `."""
    if data.startswith(b">From "):
        data = data[1:]
    if b"\n>From " in data:
        data = data.replace(b"\n>From ", b"\nFrom ")
    return data


def quote_from(data: bytes) -> bytes:
    """mboxo quoting, as MTAs and Python's mailbox write: a line starting `From ` starts `>From `."""
    if data.startswith(b"From "):
        data = b">" + data
    if b"\nFrom " in data:
        data = data.replace(b"\nFrom ", b"\n>From ")
    return data


def message_identity(raw: bytes) -> Tuple[str, str]:
    """The Message-ID (may be empty) and the hex digest of one message as stored (without an mbox From_ line)."""
    data = unquote_from(raw.replace(b"\r\n", b"\n") if b"\r" in raw else raw)
    header, body = split_message(data)
    lowered = header.lower()
    digest = hashlib.sha256(_kept_header(header))
    digest.update(b"\n")
    digest.update(body.rstrip(b"\n"))
    found = header_field(header, lowered, b"message-id")
    message_id = found.decode("utf-8", "replace")[:MAX_MESSAGE_ID] if found else ""
    return message_id, digest.hexdigest()[: DIGEST_BYTES * 2]
