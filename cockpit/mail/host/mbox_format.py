"""mbox files: finding messages in large files without reading them line by line, flags in Status headers,
and From_ lines.

A message starts at a `From ` line after a blank line (as MTAs and Python's `mailbox` write them), or at one
that carries a ctime date (`From x Mon Jan  1 00:00:00 2024`) even without the blank line; the blank line
before the next From_ line is a separator, not content.
"""

import calendar
import hashlib
import os
import re
import time
from typing import Any, BinaryIO, Dict, Iterator, Optional, Tuple

from cockpit.mail.host.identity import header_field, split_message, without_fields
from cockpit.mail.host.protocol import Fail

CHUNK = 1 << 20
_FROM_LINE = re.compile(
    rb"From [^\n]*?(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),? +(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +"
    rb"\d{1,2} +\d{1,2}:\d\d"
)


def mbox_flags(content: bytes) -> Tuple[str, str]:
    """Maildir flags and subdirectory from Status/X-Status, as `mailbox.MaildirMessage(mboxMessage)` converts."""
    header, _ = split_message(content.replace(b"\r\n", b"\n") if b"\r" in content[:65536] else content)
    lowered = header.lower()
    chars = (header_field(header, lowered, b"status") or b"") + (header_field(header, lowered, b"x-status") or b"")
    flags = ""
    for mbox_flag, maildir_flag in ((b"F", "F"), (b"A", "R"), (b"R", "S"), (b"D", "T")):
        if mbox_flag in chars:
            flags += maildir_flag
    return "".join(sorted(flags)), ("cur" if b"O" in chars else "new")


def status_headers(flags: str, subdir: str, eol: bytes) -> bytes:
    """Status/X-Status lines for Maildir flags, as `mailbox.mboxMessage(MaildirMessage)` converts."""
    status = ("R" if "S" in flags else "") + ("O" if subdir == "cur" else "")
    xstatus = ("D" if "T" in flags else "") + ("F" if "F" in flags else "") + ("A" if "R" in flags else "")
    lines = b""
    if status:
        lines += b"Status: " + status.encode("ascii") + eol
    if xstatus:
        lines += b"X-Status: " + xstatus.encode("ascii") + eol
    return lines


def rewrite_header(content: bytes, drop: Tuple[bytes, ...], add: bytes) -> bytes:
    """`content` without the header fields named in `drop` (lower case) and with `add` at the header's end."""
    eol = b"\r\n" if content.find(b"\r\n") == content.find(b"\n") - 1 >= 0 else b"\n"
    end = content.find(eol + eol)
    if content.startswith(eol):
        head, rest = b"", content
    elif end < 0:
        head, rest = content if content.endswith(eol) or not content else content + eol, b""
    else:
        head, rest = content[: end + len(eol)], content[end + len(eol) :]
    if not rest and add:
        rest = eol
    return without_fields(head, drop) + add + rest


def date_of_from_line(line: bytes) -> Optional[float]:
    """The delivery time written in a From_ line (UTC), if it parses."""
    try:
        text = " ".join(line.decode("ascii", "replace").split()[-5:])
        return float(calendar.timegm(time.strptime(text, "%a %b %d %H:%M:%S %Y")))
    except (ValueError, OverflowError):
        return None


def make_from_line(content: bytes, mtime: float) -> bytes:
    """A From_ line for a message that had none (it came from a Maildir): Return-Path and delivery time."""
    header, _ = split_message(content.replace(b"\r\n", b"\n"))
    found = header_field(header, header.lower(), b"return-path") or b""
    sender = found.strip().strip(b"<>").strip()
    if not sender or len(sender) > 256:
        sender = b"MAILER-DAEMON"
    sender = re.sub(rb"[\s\x00-\x1f\x7f]", b"_", sender)
    return b"From " + sender + b" " + time.asctime(time.gmtime(mtime)).encode("ascii")


class MboxScanner:
    """Walks the messages of an mbox from an offset, hashing every byte it reads (the prefix fingerprint)."""

    def __init__(self, handle: BinaryIO, path: str, start: int, hasher: Any, limit: Optional[int] = None) -> None:
        self.handle = handle
        self.path = path
        self.hasher = hasher
        self.limit = limit
        self.buf = bytearray()
        self.lo = 0
        self.base = start
        self.eof = False
        handle.seek(start)

    @property
    def position(self) -> int:
        """The file offset of the first byte not yet read."""
        return self.base + len(self.buf)

    def _fill(self) -> bool:
        size = CHUNK
        if self.limit is not None:
            size = min(size, self.limit - self.position)
        chunk = self.handle.read(size) if size > 0 else b""
        if not chunk:
            self.eof = True
            return False
        self.hasher.update(chunk)
        self.buf += chunk
        return True

    def _compact(self) -> None:
        """Drops what was consumed; only between messages, since indices into the buffer move."""
        if self.lo > CHUNK:
            del self.buf[: self.lo]
            self.base += self.lo
            self.lo = 0

    def _line_end(self, at: int) -> int:
        """Index of the newline ending the line at `at` (reading more as needed); -1 at the end of the data."""
        while True:
            nl = self.buf.find(b"\n", at)
            if nl >= 0 or not self._fill():
                return nl

    def skip_blank_lines(self) -> None:
        while True:
            if len(self.buf) - self.lo < 2 and not self.eof:
                self._fill()
            if self.buf.startswith(b"\n", self.lo):
                self.lo += 1
            elif self.buf.startswith(b"\r\n", self.lo):
                self.lo += 2
            else:
                return

    def at_from_line(self) -> bool:
        """True when the unread data starts with `From ` (or is empty)."""
        if len(self.buf) - self.lo < 5:
            self._fill()
        return len(self.buf) == self.lo or self.buf.startswith(b"From ", self.lo)

    def messages(self) -> Iterator[Tuple[int, bytes, bytes]]:
        """(offset of the From_ line, the From_ line, the content without the separator) for each message."""
        while len(self.buf) > self.lo or self._fill():
            self._compact()
            if not self.buf.startswith(b"From ", self.lo):
                raise Fail(
                    "not-mbox",
                    self.path + " is not an mbox file (no From_ line at offset " + str(self.base + self.lo) + ")",
                )
            start = self.lo
            nl = self._line_end(start)
            if nl < 0:
                return  # a lone From_ line at the very end: nothing delivered yet
            body = nl + 1
            search = body
            while True:
                found = self.buf.find(b"\nFrom ", search)
                if found < 0:
                    searched = len(self.buf)
                    if self._fill():
                        search = max(body, searched - 6)
                        continue
                    end = len(self.buf)
                    break
                blank_before = self.buf[found - 1] == 10 or self.buf[found - 2 : found] == b"\n\r"
                if not blank_before:
                    line_end = self._line_end(found + 1)
                    line = self.buf[found + 1 : line_end if line_end >= 0 else len(self.buf)]
                if blank_before or _FROM_LINE.match(line):
                    end = found + 1
                    break
                search = found + 1
            content = bytes(self.buf[body:end])
            if content.endswith(b"\n\n"):
                content = content[:-1]
            elif content.endswith(b"\n\r\n"):
                content = content[:-2]
            from_line = bytes(self.buf[start:nl]).rstrip(b"\r")
            yield self.base + start, from_line, content
            self.lo = end

    def read_rest(self) -> None:
        """Hashes whatever is left (the fingerprint covers the whole file as read)."""
        while self._fill():
            pass


def verified_prefix(handle: BinaryIO, known: Dict[str, Any], st: os.stat_result) -> Optional[Any]:
    """A hasher fed with the first `known["end"]` bytes when they are exactly the bytes fingerprinted last
    time (same file, not shorter), else None."""
    end = int(known.get("end", -1))
    if [st.st_dev, st.st_ino] != [known.get("dev"), known.get("ino")] or end < 0 or st.st_size < end:
        return None
    hasher = hashlib.sha256()
    handle.seek(0)
    left = end
    while left > 0:
        chunk = handle.read(min(CHUNK, left))
        if not chunk:
            return None
        hasher.update(chunk)
        left -= len(chunk)
    return hasher if hasher.copy().hexdigest() == known.get("sha") else None
