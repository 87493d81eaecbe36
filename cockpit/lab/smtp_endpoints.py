"""The lab's three SMTP endpoints: the old MTA, the parking address where nothing listens, and the new MTA.

Each endpoint's port is held from the start by a socket that is bound but does not listen: connections to it
are refused (what senders must see at the parking address and at a new MTA not started yet), and no other
program can take the port meanwhile. An MTA starts on its held socket when its host's sandbox holds its flag
file, which a plan creates over SSH (`mta/enabled`; on the new host, `mta/parking` opens the parking address
to the new MTA as well); the lab then writes the matching `mta/listening` (`mta/parking-listening`).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import sys
from pathlib import Path

from cockpit.lab.demo_plan import MTA_FLAG, MTA_LISTENING, Endpoint
from cockpit.lab.errors import LabError
from cockpit.lab.smtp_server import LabMta

ROLES = ("old", "parking", "new")
POLL = 0.05
"""Seconds between two looks at a host's `mta/enabled`."""
PICK_ATTEMPTS = 50


def loopback_addresses() -> dict[str, str]:
    """One loopback address per endpoint on Linux (all of 127/8 is local there); elsewhere 127.0.0.1 for all."""
    if sys.platform.startswith("linux"):
        return {"old": "127.0.0.2", "parking": "127.0.0.3", "new": "127.0.0.4"}
    return dict.fromkeys(ROLES, "127.0.0.1")


def hold(address: str, port: int) -> socket.socket:
    """A TCP socket bound to `address`:`port` (0: a free port) that does not listen: connections are refused."""
    sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
    except BaseException:
        sock.close()
        raise
    return sock


def _bind_error(address: str, port: int, exc: OSError) -> LabError:
    where = f"{address}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return LabError(f"cannot use SMTP port {where}: something already listens there (choose another port)")
    if exc.errno == errno.EACCES:
        return LabError(f"cannot use SMTP port {where}: ports below 1024 need root (choose another port)")
    if exc.errno == errno.EADDRNOTAVAIL:
        return LabError(f"cannot use SMTP address {address}: it is not a local address here")
    return LabError(f"cannot use SMTP port {where}: {exc.strerror or exc}")


def hold_endpoints(port: int, addresses: dict[str, str] | None = None) -> dict[str, socket.socket]:
    """A held socket per role. Distinct addresses share one port (`port`, or a free one when 0); otherwise
    the roles get `port`, `port`+1, `port`+2 (or three free ports)."""
    addresses = addresses or loopback_addresses()
    distinct = len(set(addresses.values())) == len(ROLES)
    attempts = PICK_ATTEMPTS if port == 0 and distinct else 1
    for _ in range(attempts):
        held: dict[str, socket.socket] = {}
        try:
            chosen = port
            for offset, role in enumerate(ROLES):
                wanted = chosen if distinct else (port + offset if port else 0)
                try:
                    held[role] = hold(addresses[role], wanted)
                except OSError as exc:
                    if port == 0 and distinct and exc.errno == errno.EADDRINUSE:
                        raise _Retry from None
                    raise _bind_error(addresses[role], wanted, exc) from None
                if distinct and chosen == 0:
                    chosen = held[role].getsockname()[1]
            return held
        except _Retry:
            continue
        finally:
            if len(held) != len(ROLES):
                for sock in held.values():
                    sock.close()
    raise LabError("cannot find a free port shared by the three SMTP addresses")


class _Retry(Exception):
    pass


def endpoint_of(sock: socket.socket) -> Endpoint:
    address, port = sock.getsockname()[:2]
    return Endpoint(address, port)


class SwitchedMta:
    """An MTA that listens while its host's sandbox holds its flag (`mta/enabled`), and holds its port
    otherwise."""

    def __init__(
        self, mta: LabMta, sandbox: Path, held: socket.socket, flag: str = MTA_FLAG, listening: str = MTA_LISTENING
    ) -> None:
        self.mta = mta
        self.flag = sandbox / flag
        self.listening_file = sandbox / listening
        self.endpoint = endpoint_of(held)
        self._held: socket.socket | None = held
        self._task: asyncio.Task[None] | None = None
        self.starts = 0
        """How many times the MTA was started (the new one: once, by the plan)."""
        self.failure: str | None = None

    @property
    def running(self) -> bool:
        return self.mta.running

    def enable(self) -> None:
        """What the plan's SSH step does, for the host whose MTA runs from the start."""
        self.flag.parent.mkdir(parents=True, exist_ok=True)
        self.flag.touch()

    async def sync(self) -> None:
        """Start or stop the MTA to match the flag, now."""
        wanted = self.flag.exists()
        if wanted and not self.mta.running:
            await self._start()
        elif not wanted and self.mta.running:
            await self._stop()

    async def _start(self) -> None:
        sock, self._held = self._held, None
        try:
            await self.mta.start(sock=sock)
        except OSError as exc:
            self.failure = f"cannot listen on {self.endpoint}: {exc.strerror or exc}"
            with contextlib.suppress(OSError):
                self.listening_file.write_text(f"failed: {self.failure}\n")
            return
        self.starts += 1
        self.failure = None
        self.listening_file.write_text(f"listening on {self.endpoint}\n")

    async def _stop(self) -> None:
        await self.mta.stop()
        self.listening_file.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self._held = hold(self.endpoint.address, self.endpoint.port)

    def watch(self) -> None:
        """Follow the flag from now on (every POLL seconds) until `close`."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._follow())

    async def _follow(self) -> None:
        while True:
            await asyncio.sleep(POLL)
            with contextlib.suppress(OSError):
                await self.sync()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.mta.stop()
        self.listening_file.unlink(missing_ok=True)
        if self._held is not None:
            self._held.close()
            self._held = None
