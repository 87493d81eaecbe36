"""Where a mail store lives: a host, a format, and a path pattern whose `{user}` and `{domain}` name mailboxes.

The engine builds a `StoreSpec` from the plan's `stores:`; the pattern is expanded on the host (by globbing)
for the source, and filled with the source's users and domains for the destination.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

MailFormat = Literal["mbox", "maildir"]
FORMATS: tuple[MailFormat, ...] = ("mbox", "maildir")
_BRACED = re.compile(r"\{([^{}]*)\}")
_PLACEHOLDERS = ("user", "domain")


def _check_name(kind: str, value: str) -> None:
    """A name found on a host may hold anything a directory name may (spaces, quotes, braces, control
    characters: it is filled in literally and shown escaped); it may not leave its place in the path."""
    if not value or value in (".", "..") or "/" in value or "\0" in value:
        raise ValueError(f"{kind} {value!r} cannot name a mailbox (empty, '.', '..', '/' or NUL)")


@dataclass(frozen=True)
class StoreSpec:
    """One side of a move: `path` like `/var/mail/{user}` or `/var/vmail/{domain}/{user}/Maildir`."""

    host: str
    format: MailFormat
    path: str
    users: tuple[str, ...] | None = None
    """Only these users' mailboxes (the source decides; on a destination spec this is not used)."""

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"unknown mail store format {self.format!r} (mbox or maildir)")
        if not (self.path.startswith("/") or self.path == "~" or self.path.startswith("~/")):
            raise ValueError(f"store path {self.path!r} must be absolute or start with ~/")
        for name in _BRACED.findall(self.path):
            if name not in _PLACEHOLDERS:
                raise ValueError(f"store path {self.path!r}: unknown placeholder {{{name}}} (use {{user}}, {{domain}})")
        if "\0" in self.path or not self.path.isprintable():
            raise ValueError("store path has control characters")
        for user in self.users or ():
            _check_name("user", user)

    @property
    def placeholders(self) -> frozenset[str]:
        return frozenset(_BRACED.findall(self.path))

    def fill(self, user: str, domain: str) -> str:
        """The path of one mailbox; raises ValueError when the pattern needs a value that is missing."""
        if "{user}" in self.path and not user:
            raise ValueError(f"store path {self.path} needs {{user}}, which the source path does not give")
        if "{domain}" in self.path and not domain:
            raise ValueError(f"store path {self.path} needs {{domain}}, which the source path does not give")
        values = {"user": user, "domain": domain}
        return _BRACED.sub(lambda match: values[match.group(1)], self.path)  # one pass: a value is never re-read

    def describe(self) -> str:
        return f"{self.host}:{self.path} ({self.format})"


@dataclass(frozen=True, slots=True)
class MailboxRef:
    """One mailbox of a store: its path on the host and the user and domain it belongs to."""

    path: str
    user: str = ""
    domain: str = ""

    @property
    def name(self) -> str:
        """How the operator knows the mailbox: `user@domain`, `user`, or the path."""
        if self.user and self.domain:
            return f"{self.user}@{self.domain}"
        return self.user or self.path
