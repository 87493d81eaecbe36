"""Turns a byte stream into bounded lines, so a binary dump or an endless line cannot blow memory."""

from __future__ import annotations

DEFAULT_MAX_LINE = 4096
"""Bytes of a line kept before the rest is cut (the cut marker says how many bytes were dropped)."""


def cut_marker(dropped: int) -> str:
    """What replaces the end of a line that was too long."""
    return f" … [line cut: {dropped} more bytes]"


class LineSplitter:
    """Splits chunks into lines; holds at most `max_line` bytes of an unfinished line."""

    def __init__(self, max_line: int = DEFAULT_MAX_LINE) -> None:
        if max_line < 1:
            raise ValueError("max_line must be positive")
        self._max = max_line
        self._partial = b""
        self._dropped = 0
        """Bytes of the current line thrown away after the first `max_line`."""

    def feed(self, data: bytes) -> list[str]:
        """The lines that `data` completes, without their endings (\\n, and \\r\\n from a PTY)."""
        last = data.rfind(b"\n")
        if last < 0:
            self._keep(data)
            return []
        first = data.find(b"\n")
        lines = [self._finish(data[:first])]
        if first < last:
            # Complete lines cannot hold half a UTF-8 character, so the middle decodes in one go.
            middle = data[first + 1 : last].decode("utf-8", "replace")
            if "\r" in middle:
                middle = middle.replace("\r\n", "\n")
                if middle.endswith("\r"):
                    middle = middle[:-1]
            found = middle.split("\n")
            limit = self._max
            if max(map(len, found)) > limit:
                found = [self._cut(text) if len(text) > limit else text for text in found]
            lines.extend(found)
        self._keep(data[last + 1 :])
        return lines

    def _cut(self, text: str) -> str:
        return text[: self._max] + cut_marker(len(text[self._max :].encode()))

    def flush(self) -> list[str]:
        """The unfinished last line, if the stream ended without a newline."""
        if not self._partial and not self._dropped:
            return []
        return [self._finish(b"")]

    def _finish(self, piece: bytes) -> str:
        """Completes the held partial line with `piece`."""
        self._keep(piece)
        text = self._decode(self._partial)
        if self._dropped:
            text += cut_marker(self._dropped)
        self._partial = b""
        self._dropped = 0
        return text

    def _keep(self, piece: bytes) -> None:
        room = self._max - len(self._partial)
        if len(piece) <= room:
            self._partial += piece
        else:
            self._partial += piece[:room]
            self._dropped += len(piece) - room

    @staticmethod
    def _decode(raw: bytes) -> str:
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        return raw.decode("utf-8", "replace")
