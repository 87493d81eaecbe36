"""An SSH server on 127.0.0.1 that runs real shell commands in a sandbox folder: a stand-in mail host.

It speaks real SSH (asyncssh), so the cockpit and OpenSSH's `ssh` both connect to it with host-key checking
on: it writes a pinned known_hosts file and an authorized client key for them. Each command runs through
`/bin/sh -c` in its own process group, which is killed when the channel closes, as sshd would leave it
running. `drop_connections` cuts every client off without a goodbye, for fault tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

import asyncssh

from cockpit.lab.ssh_session import SessionRecord, ShellSession

ADDRESS = "127.0.0.1"
HISTORY = 1000


class LabSshHost:
    """One lab host: keys, known_hosts and sandbox under `root`; call `start` (or use `async with`)."""

    def __init__(self, root: Path, *, name: str = "lab", env: Mapping[str, str] | None = None) -> None:
        self.name = name
        self.env = dict(env or {})
        """Extra environment for commands (e.g. a PATH with fault-injecting stand-ins)."""
        self.root = root
        self.sandbox = root / "sandbox"
        """Working directory (and HOME) of every command."""
        self.known_hosts = root / "known_hosts"
        """The pinned host key, for clients: `[127.0.0.1]:PORT ssh-ed25519 ...`."""
        self.client_key = root / "client_key"
        """An unencrypted private key this host accepts (its `.pub` sits next to it)."""
        self.authorized_keys = root / "authorized_keys"
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.commands: list[str | None] = []
        """Every command started, in order (None for a shell): lets tests prove nothing ran."""
        self._server: asyncssh.SSHAcceptor | None = None
        self._connections: set[asyncssh.SSHServerConnection] = set()
        self._sessions: set[ShellSession] = set()
        self.port = 0
        self.history: deque[SessionRecord] = deque(maxlen=HISTORY)
        """The last commands that finished, with their times and exit statuses."""
        self.accepted = 0
        """Client connections accepted so far (to check that connections are reused)."""

    @property
    def address(self) -> str:
        return ADDRESS

    async def start(self) -> None:
        """Writes the keys, listens on a free port, and pins that port's host key in `known_hosts`."""
        self.sandbox.mkdir(parents=True, exist_ok=True)
        client_key = asyncssh.generate_private_key("ssh-ed25519", comment=f"cockpit-lab-{self.name}")
        client_key.write_private_key(self.client_key)
        self.client_key.chmod(0o600)
        client_key.write_public_key(self.client_key.with_name("client_key.pub"))
        client_key.write_public_key(self.authorized_keys)
        host = self

        class _Server(asyncssh.SSHServer):
            def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
                self._conn = conn
                host._connections.add(conn)
                host.accepted += 1

            def begin_auth(self, username: str) -> bool:
                # Read per connection, so keys authorized after the start count.
                self._conn.set_authorized_keys(str(host.authorized_keys))
                return True

            def connection_requested(self, dest_host: str, dest_port: int, orig_host: str, orig_port: int) -> bool:
                # Lets a client use this host as a ProxyJump hop to other loopback servers.
                return dest_host in ("127.0.0.1", "localhost")

            def connection_lost(self, exc: Exception | None) -> None:
                host._connections.discard(self._conn)

            def session_requested(self) -> ShellSession:
                return ShellSession(host.sandbox, host.commands, host._sessions, host.env, host.history.append)

        self._server = await asyncssh.create_server(
            _Server,
            ADDRESS,
            0,
            server_host_keys=[self.host_key],
            encoding=None,
            line_editor=False,
            keepalive_interval=0,
            login_timeout=30,
        )
        sockets = self._server.sockets
        self.port = int(sockets[0].getsockname()[1])
        self.known_hosts.write_text(self.known_hosts_line())

    def known_hosts_line(self, key: asyncssh.SSHKey | None = None) -> str:
        """The known_hosts entry for this host and port (with another key, to fake a changed one)."""
        public = (key or self.host_key).export_public_key("openssh").decode().split()
        return f"[{ADDRESS}]:{self.port} {public[0]} {public[1]}\n"

    def plan_host(self, user: str = "root") -> dict[str, object]:
        """This host as a plan's `hosts:` entry."""
        return {
            "address": ADDRESS,
            "port": self.port,
            "user": user,
            "known_hosts": str(self.known_hosts),
            "identity": [str(self.client_key)],
        }

    def authorize(self, public_key: Path) -> None:
        """Accepts one more client key (OpenSSH public key file) from the next connection on."""
        with self.authorized_keys.open("a") as keys:
            keys.write(public_key.read_text().strip() + "\n")

    def drop_connections(self) -> int:
        """Cuts every client connection at once, with no disconnect message; returns how many."""
        dropped = list(self._connections)
        for conn in dropped:
            conn.abort()
        return len(dropped)

    def running(self) -> int:
        """Sessions whose command has not finished yet."""
        return sum(1 for session in self._sessions if session.running)

    def sessions(self) -> list[str]:
        """Each open session as `pid N running|ended|starting: COMMAND` (for a test that waited in vain)."""
        return [session.describe() for session in self._sessions]

    async def stop(self) -> None:
        """Stops listening, drops the clients and kills whatever they left running."""
        if self._server is not None:
            self._server.close()
            self.drop_connections()
            for session in list(self._sessions):
                session.kill(signal.SIGKILL)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 5)
            self._server = None

    async def __aenter__(self) -> LabSshHost:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


def process_alive(pid: int) -> bool:
    """True if `pid` runs (a zombie waiting to be reaped counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return stat.rpartition(")")[2].split()[0] != "Z"
