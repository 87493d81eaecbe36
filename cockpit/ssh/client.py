"""The asyncssh client callbacks: note the host key a server offered, unlock keys on demand, notice loss."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import asyncssh

from cockpit.ssh.auth import KeyRing
from cockpit.ssh.host_keys import OfferedKey, describe_offered


class CockpitClient(asyncssh.SSHClient):
    """One per connection attempt; keys not in known_hosts are always refused, only remembered for the message."""

    def __init__(
        self,
        known_hosts: asyncssh.SSHKnownHosts,
        keyring: KeyRing,
        locked: list[Path],
        problems: list[str],
        prompting: Callable[[bool], None],
    ) -> None:
        self._known_hosts = known_hosts
        self._keyring = keyring
        self._locked = list(locked)
        self.problems = problems
        self._prompting = prompting
        self.offered: OfferedKey | None = None
        self.lost = False
        """True once the connection closed, for whatever reason: the pool then opens a new one."""

    def validate_host_public_key(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
        # Called only for a key known_hosts does not trust: refuse, and keep what we need to explain it.
        self.offered = describe_offered(host, addr, port, key, self._known_hosts)
        return False

    def validate_host_ca_key(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
        return False

    async def public_key_auth_requested(self) -> list[asyncssh.SSHKeyPair] | None:
        """After the agent's and the unencrypted keys, each encrypted identity file in turn."""
        while self._locked:
            path = self._locked.pop(0)
            self._prompting(True)
            try:
                keys = await self._keyring.unlock(path, self.problems)
            finally:
                self._prompting(False)
            if keys:
                return list(keys)
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
