"""Text from a plan, a server or a remote command, made safe to show on a terminal or in a report.

Such text may hold terminal control sequences: OSC 52 writes the operator's clipboard, OSC 0 their window
title, CSI 2J clears the screen, an alternate-screen switch hides what follows, U+202E reverses what is read.
None of it is ever passed on. Colour and style sequences (SGR) are dropped, as they only style; every other
control character is shown visibly instead (`\\e]52;…`), so that whoever reads the output sees that something
tried. Carriage returns within a line keep only what a terminal would finally show.
"""

from __future__ import annotations

import re
import unicodedata

_SGR = re.compile(r"\x1b\[[0-9;:]*m")
_NAMED = {"\x1b": "\\e", "\x07": "\\a", "\x08": "\\b", "\x0b": "\\v", "\x0c": "\\f", "\r": "\\r", "\n": "\\n"}
TAB_WIDTH = 4


def _shown(char: str) -> str:
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible(text: str, *, newlines: bool = False) -> str:
    """`text` with nothing a terminal would act on: styles dropped, other controls shown as escapes.

    With `newlines`, line breaks are kept (a report's preformatted block); otherwise they show as `\\n`, so
    that one record stays one line."""
    if text.isprintable():
        return text
    if "\x1b[" in text:
        text = _SGR.sub("", text)
    if "\r" in text:
        text = "\n".join(_after_returns(line) for line in text.split("\n"))
    if "\t" in text:
        text = text.expandtabs(TAB_WIDTH)
    out = []
    for char in text:
        if char.isprintable() or (newlines and char == "\n"):
            out.append(char)
        elif char == " " or unicodedata.category(char) == "Zs":
            out.append(" ")
        else:
            out.append(_shown(char))
    return "".join(out)


def _after_returns(line: str) -> str:
    """What a terminal shows of a line rewritten with carriage returns (a progress counter): its last part."""
    stripped = line.rstrip("\r")
    return stripped.rpartition("\r")[2] if "\r" in stripped else stripped
