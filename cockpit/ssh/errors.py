"""What can go wrong over SSH, each as an exception whose `str()` is one line an operator can act on."""

from __future__ import annotations


class SshError(Exception):
    """Base of every SSH failure; `host` is the plan host name the failure concerns."""

    def __init__(self, host: str, message: str) -> None:
        super().__init__(f"{host}: {message}")
        self.host = host
        self.message = message


class UnknownPlanHostError(SshError):
    """A step names a host that the plan does not define."""

    def __init__(self, host: str) -> None:
        super().__init__(host, "no such host in the plan")


class ConnectError(SshError):
    """The TCP connection or the SSH handshake could not be completed (refused, timed out, unreachable)."""


class AuthError(SshError):
    """The server refused every key we could offer."""


class HostKeyError(SshError):
    """The server's host key could not be verified against the pinned known_hosts: nothing was run."""

    def __init__(
        self,
        host: str,
        message: str,
        *,
        key_type: str | None = None,
        fingerprint: str | None = None,
        known_hosts: str | None = None,
    ) -> None:
        super().__init__(host, message)
        self.key_type = key_type
        self.fingerprint = fingerprint
        self.known_hosts = known_hosts


class UnknownHostKeyError(HostKeyError):
    """known_hosts has no key for this host."""


class ChangedHostKeyError(HostKeyError):
    """known_hosts has keys for this host, and the server offered a different one."""


class ConnectionLostError(SshError):
    """The connection dropped while a command ran: it may or may not have finished on the host."""

    def __init__(self, host: str, detail: str = "") -> None:
        suffix = f" ({detail})" if detail else ""
        super().__init__(host, f"connection lost — outcome unknown{suffix}")


class CommandTimeoutError(SshError):
    """A command ran longer than its step allows; it was signalled and its channel closed."""


class TransferError(SshError):
    """A transfer failed; the destination's final name was left untouched."""
