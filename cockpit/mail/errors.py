"""What can go wrong in a mail step, each an `SshError` whose text is one line naming the host.

A connection lost while copying is `cockpit.ssh.ConnectionLostError` (outcome unknown): a rerun copies only
what is missing, since every pass compares what both sides hold before it copies anything.
"""

from __future__ import annotations

from cockpit.ssh import SshError


class MailError(SshError):
    """A mail step failed on `host`; nothing half-copied was left where it would count as a message."""


class PythonMissingError(MailError):
    """The host has no python3 (or one older than 3.6): nothing was read or changed there."""


class NothingMatchedError(MailError):
    """A store path matched no mailbox on the source host."""


class UnreadableMailboxError(MailError):
    """A mailbox (or one of its files) could not be read."""


class DiskFullError(MailError):
    """The destination ran out of space; the message being written was removed again."""


class StoreLockedError(MailError):
    """Another program held a mailbox's lock for longer than we wait."""


KINDS: dict[str, type[MailError]] = {
    "no-match": NothingMatchedError,
    "unreadable": UnreadableMailboxError,
    "disk-full": DiskFullError,
    "locked": StoreLockedError,
}
"""The host program's error kinds and the exception each becomes; any other kind is a plain MailError."""
