"""How the host program talks to the cockpit: JSON lines out, one parameter line and data in, errors as one line.

A failure the operator must see is raised as `Fail` and printed as `cockpit-mail: KIND: message` on stderr
(the cockpit shows the message and tells kinds apart); the exit status is then 2.
"""

import contextlib
import json
import os
import sys
from json.encoder import encode_basestring_ascii as _quote
from typing import Any, BinaryIO, Optional, Tuple

ERROR_PREFIX = "cockpit-mail: "
EXIT_FAIL = 2
EXIT_STREAM_ENDED = 4
"""The receiver's exit status when its input ended before the end marker (the cockpit went away)."""


class Fail(Exception):
    """One clear line for the operator; `kind` is one of: no-match, unreadable, not-mbox, disk-full, locked,
    interrupted, protocol, write."""

    def __init__(self, kind: str, message: str) -> None:
        Exception.__init__(self, message)
        self.kind = kind
        self.message = message


def os_reason(exc: OSError) -> str:
    """The operating system's words for an error, without the errno number."""
    return exc.strerror or str(exc)


def fs_text(raw: bytes) -> str:
    """A file name as JSON-safe text; undecodable bytes survive the round trip (surrogateescape)."""
    return raw.decode("utf-8", "surrogateescape")


def fs_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


class LineWriter:
    """JSON lines to stdout, buffered; the cockpit reads them as they come."""

    def __init__(self, stream: Optional[BinaryIO] = None) -> None:
        self.stream = stream if stream is not None else sys.stdout.buffer
        self._dumps = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode

    def message(
        self, key: str, size: int, digest: Optional[str], message_id: Optional[str], flags: str, sub: str
    ) -> None:
        """One inventory record, `[key, size, digest, message_id, flags, subdir]`, without the general encoder."""
        quote = _quote
        self.stream.write(
            (
                "["
                + quote(key)
                + ","
                + str(size)
                + ","
                + ('"' + digest + '"' if digest is not None else "null")
                + ","
                + (quote(message_id) if message_id is not None else "null")
                + ","
                + quote(flags)
                + ',"'
                + sub
                + '"]\n'
            ).encode("ascii")
        )

    def line(self, value: Any) -> None:
        self.stream.write(self._dumps(value).encode("ascii") + b"\n")

    def raw(self, data: bytes) -> None:
        self.stream.write(data)

    def flush(self) -> None:
        self.stream.flush()


def read_whole(path: str) -> Tuple[bytes, os.stat_result]:
    """A file's content and its status, with as few calls as the operating system allows."""
    fd = os.open(path, os.O_RDONLY)
    try:
        st = os.fstat(fd)
        data = os.read(fd, st.st_size + 1)
        if len(data) == st.st_size:
            return data, st
        chunks = [data]
        while True:  # a short read, or the file grew meanwhile: read on to its end
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks), st
            chunks.append(chunk)
    finally:
        os.close(fd)


def read_json_line(stream: BinaryIO, what: str) -> Any:
    """One JSON value from a line of `stream`; None at the end of the stream."""
    line = stream.readline()
    if not line:
        return None
    try:
        return json.loads(line.decode("utf-8", "surrogateescape"))
    except ValueError:
        raise Fail("protocol", "unreadable " + what + " from the cockpit") from None


def report_failure(kind: str, message: str) -> int:
    """Prints the one line and gives the exit status."""
    text = " ".join(message.split())
    with contextlib.suppress(OSError):
        sys.stdout.flush()
    sys.stderr.write(ERROR_PREFIX + kind + ": " + text + "\n")
    sys.stderr.flush()
    return EXIT_FAIL


def ignore_broken_pipe() -> None:
    """After the cockpit went away, further writes to stdout must not raise again at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass
