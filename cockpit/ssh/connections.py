"""One SSH connection per plan host, opened on first use, verified, and reused until it drops.

Every connection goes through `HostConnections.connect`, which always passes the pinned known_hosts: no
code path reaches a command without a verified host key.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import asyncssh

from cockpit.base.units import format_duration
from cockpit.plan import Host, Plan
from cockpit.ssh.auth import KeyRing, PassphrasePrompt
from cockpit.ssh.client import CockpitClient
from cockpit.ssh.errors import AuthError, ConnectError, HostKeyError, UnknownPlanHostError
from cockpit.ssh.host_keys import host_key_error, known_hosts_path, load_known_hosts
from cockpit.ssh.ssh_config import Endpoint, resolve_route

# Fast ciphers first: AES-GCM runs in OpenSSL with hardware support, which matters for transfers.
ENCRYPTION_ALGS = (
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
    "chacha20-poly1305@openssh.com",
    "aes128-ctr",
    "aes256-ctr",
)


@dataclass
class _Open:
    """A live connection and the ProxyJump hops it runs through."""

    conn: asyncssh.SSHClientConnection
    client: CockpitClient
    hops: list[asyncssh.SSHClientConnection] = field(default_factory=list)

    def alive(self) -> bool:
        return not self.client.lost

    def close(self) -> None:
        self.conn.close()
        for hop in reversed(self.hops):
            hop.close()


class HostConnections:
    """The connections of one run, keyed by plan host name; `async with` closes them all."""

    def __init__(
        self,
        hosts: Mapping[str, Host],
        *,
        base_dir: Path,
        passphrase: PassphrasePrompt | None = None,
        ssh_config: Path | None = None,
    ) -> None:
        self._hosts = dict(hosts)
        self._base_dir = base_dir
        self._keyring = KeyRing(passphrase)
        self._ssh_config = ssh_config
        self._open: dict[str, _Open] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @classmethod
    def for_plan(cls, plan: Plan, base_dir: Path, passphrase: PassphrasePrompt | None = None) -> HostConnections:
        """The pool for a plan; relative key and known_hosts paths resolve against `base_dir`."""
        return cls(plan.hosts, base_dir=base_dir, passphrase=passphrase)

    def host(self, name: str) -> Host:
        try:
            return self._hosts[name]
        except KeyError:
            raise UnknownPlanHostError(name) from None

    async def connect(self, name: str) -> asyncssh.SSHClientConnection:
        """The live connection to `name`; the first caller opens it, concurrent callers wait for that one."""
        host = self.host(name)
        lock = self._locks.setdefault(name, asyncio.Lock())
        async with lock:
            current = self._open.get(name)
            if current is not None and current.alive():
                return current.conn
            if current is not None:
                current.close()
                del self._open[name]
            opened = await self._open_route(name, host)
            self._open[name] = opened
            return opened.conn

    def drop(self, name: str) -> None:
        """Forget a connection (after a failure), so the next use opens a fresh one."""
        current = self._open.pop(name, None)
        if current is not None:
            current.close()

    async def close(self) -> None:
        """Close every connection and wait (briefly) for them to go."""
        opened, self._open = list(self._open.values()), {}
        for item in opened:
            item.close()
        for item in opened:
            for conn in [item.conn, *item.hops]:
                with contextlib.suppress(TimeoutError, OSError, asyncssh.Error):
                    await asyncio.wait_for(conn.wait_closed(), 5)

    async def __aenter__(self) -> HostConnections:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def _open_route(self, name: str, host: Host) -> _Open:
        try:
            route = resolve_route(host, self._base_dir, self._ssh_config)
        except (asyncssh.ConfigParseError, ValueError) as exc:
            raise ConnectError(name, f"ssh config: {exc}") from None
        except OSError as exc:
            where = exc.filename or "the ssh config"
            raise ConnectError(name, f"cannot read {where}: {exc.strerror or type(exc).__name__} "
                                     "(fix its permissions, or set ssh_config on the plan host)") from None  # fmt: skip
        known_path = known_hosts_path(host.known_hosts, self._base_dir)
        try:
            known = load_known_hosts(known_path)
        except OSError as exc:
            raise HostKeyError(name, str(exc), known_hosts=str(known_path)) from None
        hops: list[asyncssh.SSHClientConnection] = []
        try:
            for hop in route.jumps:
                conn, _ = await self._connect_endpoint(name, host, hop, known, known_path, hops[-1] if hops else None)
                hops.append(conn)
            conn, client = await self._connect_endpoint(
                name, host, route.target, known, known_path, hops[-1] if hops else None
            )
        except BaseException:
            for hop_conn in reversed(hops):
                hop_conn.close()
            raise
        return _Open(conn, client, hops)

    async def _connect_endpoint(
        self,
        name: str,
        host: Host,
        endpoint: Endpoint,
        known: asyncssh.SSHKnownHosts,
        known_path: Path,
        tunnel: asyncssh.SSHClientConnection | None,
    ) -> tuple[asyncssh.SSHClientConnection, CockpitClient]:
        where = f"{endpoint.username}@{endpoint.host}:{endpoint.port}"
        ready, locked, problems = self._keyring.split(endpoint.identities)
        loop = asyncio.get_running_loop()
        deadlines: list[asyncio.Timeout] = []

        def prompting(active: bool) -> None:
            # Time the operator spends typing a passphrase does not count against connect_timeout.
            for deadline in deadlines:
                deadline.reschedule(None if active else loop.time() + host.connect_timeout)

        client = CockpitClient(known, self._keyring, locked, problems, prompting)
        try:
            async with asyncio.timeout(host.connect_timeout) as deadline:
                deadlines.append(deadline)
                conn = await self._handshake(endpoint, known, tunnel, client, ready, host)
        except TimeoutError:
            waited = format_duration(host.connect_timeout)
            raise ConnectError(name, f"cannot connect to {where}: timed out after {waited}") from None
        except (asyncssh.HostKeyNotVerifiable, asyncssh.KeyExchangeFailed) as exc:
            raise host_key_error(name, client.offered, known_path, exc.reason) from None
        except asyncssh.PermissionDenied:
            detail = "; ".join(problems)
            raise AuthError(name, f"authentication failed for {where}" + (f" ({detail})" if detail else "")) from None
        except asyncssh.DisconnectError as exc:
            raise ConnectError(name, f"{where}: {exc.reason}") from None
        except OSError as exc:
            raise ConnectError(name, f"cannot connect to {where}: {exc.strerror or exc}") from None
        return conn, client

    @staticmethod
    async def _handshake(
        endpoint: Endpoint,
        known: asyncssh.SSHKnownHosts,
        tunnel: asyncssh.SSHClientConnection | None,
        client: CockpitClient,
        ready: list[asyncssh.SSHKeyPair],
        host: Host,
    ) -> asyncssh.SSHClientConnection:
        """Connects with every option explicit: asyncssh reads no config file and gets the pinned keys."""
        return await asyncssh.connect(
            endpoint.host,
            endpoint.port,
            tunnel=tunnel,
            config=[],
            known_hosts=known,
            host_key_alias=None,
            username=endpoint.username,
            client_factory=lambda: client,
            # With keys given (or [] for the default ~/.ssh/id_* files), asyncssh offers the ssh-agent's keys
            # first (SSH_AUTH_SOCK), then these, then asks the client for the encrypted ones.
            client_keys=ready,
            ignore_encrypted=True,
            gss_auth=False,
            gss_kex=False,
            password_auth=False,
            kbdint_auth=False,
            encryption_algs=ENCRYPTION_ALGS,
            connect_timeout=None,
            login_timeout=0,
            keepalive_interval=host.keepalive_interval,
            keepalive_count_max=host.keepalive_count,
        )
