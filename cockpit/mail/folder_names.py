"""Folder and message labels shown to the operator: Maildir++ names decoded from modified UTF-7, and any
text that came from a server reduced to plain printable characters."""

from __future__ import annotations

import base64
import binascii

INBOX = "INBOX"


def plain(text: str) -> str:
    """`text` without control or format characters (each becomes `?`), so it is safe to show anywhere."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else "?" for c in text)


def decode_modified_utf7(name: str) -> str:
    """IMAP's modified UTF-7 (RFC 3501 5.1.3), as Maildir++ folder names carry it: `&AMk-t&AOk-` is `Été`."""
    out: list[str] = []
    i = 0
    while i < len(name):
        c = name[i]
        if c != "&":
            out.append(c)
            i += 1
            continue
        end = name.find("-", i + 1)
        if end < 0:
            out.append(name[i:])
            break
        chunk = name[i + 1 : end]
        if not chunk:
            out.append("&")
        else:
            try:
                raw = base64.b64decode(chunk.replace(",", "/") + "=" * (-len(chunk) % 4), validate=True)
                out.append(raw.decode("utf-16-be"))
            except (binascii.Error, UnicodeDecodeError, ValueError):
                out.append(name[i : end + 1])
        i = end + 1
    return "".join(out)


def folder_label(folder: str) -> str:
    """`INBOX` for the inbox, else the folder's name as a mail client shows it."""
    if not folder:
        return INBOX
    return plain(decode_modified_utf7(folder.encode("utf-8", "surrogateescape").decode("utf-8", "replace")))
