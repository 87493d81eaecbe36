"""The embedded lab: everything the demo plan needs, on loopback, as asyncio tasks of the current process.

    async with Lab.start(folder, speed=20, messages=None) as lab:
        ...                           # run lab.plan_path with the cockpit, or drive its steps directly
        await lab.drain()             # stop submitting; wait until every retrying message got through
        print(lab.tally(figures).line())  # sent N · old M · moved K · new L · lost 0 · duplicated 0 · ...

It starts two authoritative nameservers for demo.test (a primary that takes TSIG-signed updates and a
secondary that follows it after a lag), the SSH hosts old and new (each with its sandbox and its Maildirs),
the SMTP endpoints (old MTA, parking address, new MTA that the plan starts over SSH and later lets listen on
the parking address too) and a swarm of senders, and writes the plan, the TSIG key, the client key and the
pinned known_hosts into its folder. The run's own figures (the downtime, the copies' times) are the
journal's: the command that ran the plan reads them and hands them to `tally`.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import shutil
import socket
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from cockpit.lab.demo_plan import (
    DOMAIN,
    MAILBOXES,
    MX_HOSTS,
    PARKING_FLAG,
    PARKING_LISTENING,
    STORE_DIR,
    STORE_PATH,
    TSIG_KEY_NAME,
    Endpoint,
    PlanValues,
    render_demo_plan,
)
from cockpit.lab.dns_secondary import LaggingSecondary
from cockpit.lab.dns_zone import LabZone
from cockpit.lab.errors import LabError
from cockpit.lab.lab_folder import (
    CLIENT_KEY,
    KNOWN_HOSTS,
    PLAN,
    TSIG_KEY,
    prepare_folder,
    write_client_key,
    write_tsig_key,
)
from cockpit.lab.mail_store import MailStore
from cockpit.lab.move_timeline import MoveTimeline
from cockpit.lab.nameserver import LabNameserver, tsig_key
from cockpit.lab.pace import Pace
from cockpit.lab.senders import Swarm, SwarmConfig
from cockpit.lab.smtp_endpoints import SwitchedMta, endpoint_of, hold_endpoints, loopback_addresses
from cockpit.lab.smtp_server import LabMta
from cockpit.lab.ssh_host import LabSshHost
from cockpit.lab.tally import LabTally, RunFigures, Tally
from cockpit.plan import PlanError, load_plan

NS_ADDRESS = "127.0.0.1"
BIND_ATTEMPTS = 20
CLEANUP_LIMIT = 10.0
"""Seconds one part of the lab may take to stop before the next part is stopped anyway."""


@dataclass(frozen=True)
class LabSettings:
    speed: float = 1.0
    """Compresses every duration (TTLs, secondary lag, polling, sender rate and backoff)."""
    messages: int | None = None
    """Stop submitting after this many messages; None: a steady stream for as long as the lab runs."""
    reckless: bool = False
    """Write a plan without the TTL waits and without forwarding stragglers (to show what it strands)."""
    smtp_port: int = 0
    """The SMTP port of the three endpoints; 0 picks a free one."""
    pace: Pace | None = None
    """Durations to use instead of those derived from `speed`."""


class Lab:
    """Start it with `async with Lab.start(folder, ...)`; everything stops when the block ends."""

    def __init__(self, directory: Path | str | None, settings: LabSettings | None = None) -> None:
        self.settings = settings or LabSettings()
        self.pace = self.settings.pace or Pace.at(self.settings.speed)
        self._requested = Path(directory) if directory is not None else None
        self.directory = self._requested or Path()
        """The lab's folder (absolute, once started)."""
        self.tally_book = Tally()
        self.primary = LabNameserver(host=NS_ADDRESS)
        self.secondary = LabNameserver(host=NS_ADDRESS)
        self.follower: LaggingSecondary | None = None
        self.timeline = MoveTimeline({host: state for state, host in MX_HOSTS.items()})
        self.old: LabSshHost | None = None
        self.new: LabSshHost | None = None
        self.mtas: dict[str, SwitchedMta] = {}
        self.parking: Endpoint | None = None
        self.swarm: Swarm | None = None
        self.values: PlanValues | None = None
        self._cleanups: list[Callable[[], Awaitable[None]]] = []
        self._started = False

    @classmethod
    def start(
        cls,
        directory: Path | str | None = None,
        *,
        speed: float = 1.0,
        messages: int | None = None,
        reckless: bool = False,
        smtp_port: int = 0,
        pace: Pace | None = None,
    ) -> Lab:
        """A lab to enter with `async with`; `directory` None makes a new temporary folder."""
        return cls(directory, LabSettings(speed, messages, reckless, smtp_port, pace))

    async def __aenter__(self) -> Lab:
        await self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -- where things are -----------------------------------------------------------------------------

    @property
    def plan_path(self) -> Path:
        return self.directory / PLAN

    @property
    def tsig_key_path(self) -> Path:
        return self.directory / TSIG_KEY

    @property
    def temporary(self) -> bool:
        """The lab made its folder itself (no directory was given): nobody else keeps anything there."""
        return self._requested is None

    def store(self, host: str) -> MailStore:
        """The Maildirs of host `old` or `new` (`~/store/USER` in its sandbox, which is its HOME)."""
        return MailStore(self.directory / host / "sandbox" / STORE_DIR, host)

    def remove_folder(self) -> None:
        """Removes the folder the lab made (with its private key); call after `close`. A folder given by the
        caller is theirs and stays."""
        if self.temporary and self._started and self.directory.is_dir():
            shutil.rmtree(self.directory, ignore_errors=True)

    def describe(self) -> list[str]:
        """One line per endpoint, for people."""
        assert self.values is not None and self.old is not None and self.new is not None
        values, pace = self.values, self.pace
        new_mta = self.mtas["new"]
        return [
            f"dns  ns1 {values.ns1}  primary for {DOMAIN}, takes updates signed with {self.tsig_key_path.name}",
            f"dns  ns2 {values.ns2}  secondary, follows ns1 {pace.secondary_lag:g} s later",
            f"ssh  old lab@{values.ssh_old}  sandbox {self.old.sandbox}, mail in Maildirs {STORE_PATH}",
            f"ssh  new lab@{values.ssh_new}  sandbox {self.new.sandbox}, mail in Maildirs {STORE_PATH}",
            f"smtp old {values.smtp_old}  the old MTA, accepting",
            f"smtp parking {values.smtp_parking}  "
            + (
                "the new MTA listens here too, accepting"
                if self.mtas["parking"].running
                else "nothing listens: refused (until the plan creates mta/parking on new)"
            ),
            f"smtp new {values.smtp_new}  the new MTA, "
            + ("accepting" if new_mta.running else "starts when the plan creates mta/enabled on new"),
            f"senders {pace.senders}, each sending every {pace.sender_interval:g} s"
            + (f", {self.settings.messages} messages in all" if self.settings.messages is not None else ""),
        ]

    # -- life cycle -----------------------------------------------------------------------------------

    async def open(self) -> None:
        if self._started:
            return
        self._started = True
        if self._requested is None:
            self.directory = Path(tempfile.mkdtemp(prefix="cockpit-lab-"))
        self.directory = prepare_folder(self._requested or self.directory)
        try:
            await self._open()
        except BaseException:
            await self.close()
            raise

    async def _open(self) -> None:
        pace = self.pace
        try:
            public_key = write_client_key(self.directory / CLIENT_KEY)
            secret = write_tsig_key(self.tsig_key_path, TSIG_KEY_NAME)
        except OSError as exc:
            raise LabError(f"cannot write the lab's keys into {self.directory}: {exc.strerror or exc}") from None
        held = hold_endpoints(self.settings.smtp_port, loopback_addresses())
        self._cleanups.append(lambda: _close_held(held))
        endpoints = {role: endpoint_of(sock) for role, sock in held.items()}
        self.parking = endpoints["parking"]

        self.primary.add_zone(_zone(endpoints, pace))
        key = tsig_key(TSIG_KEY_NAME, secret)
        self.primary.keyring[key.name] = key
        await _start_nameserver(self.primary)
        self._cleanups.append(self.primary.stop)
        self.timeline.record(self.primary.zone(DOMAIN))
        self.primary.on_change(self.timeline.record)
        await _start_nameserver(self.secondary)
        self._cleanups.append(self.secondary.stop)
        self.follower = LaggingSecondary(self.primary, self.secondary, pace.secondary_lag)
        self._cleanups.append(self.follower.stop)

        self.old = await self._ssh_host("old", public_key)
        self.new = await self._ssh_host("new", public_key)
        known = self.old.known_hosts_line() + self.new.known_hosts_line()
        (self.directory / KNOWN_HOSTS).write_text(known)
        for mailbox in MAILBOXES:
            self.store("old").create(mailbox)

        for role in ("old", "new"):
            host = self.old if role == "old" else self.new
            where = endpoints[role]
            mta = LabMta(role, where.address, where.port, self.store(role), self.tally_book.accepted)
            switched = SwitchedMta(mta, host.sandbox, held.pop(role))
            self.mtas[role] = switched
            self._cleanups.append(switched.close)
        # The new MTA on the parking address: what the plan's open-parking step turns on.
        where = endpoints["parking"]
        mta = LabMta("new", where.address, where.port, self.store("new"), self.tally_book.accepted)
        self.mtas["parking"] = SwitchedMta(mta, self.new.sandbox, held.pop("parking"), PARKING_FLAG,
                                           PARKING_LISTENING)  # fmt: skip
        self._cleanups.append(self.mtas["parking"].close)
        self.mtas["old"].enable()
        await self.mtas["old"].sync()
        if not self.mtas["old"].running:
            raise LabError(self.mtas["old"].failure or "the old MTA did not start")

        self.values = PlanValues(
            ns1=Endpoint(NS_ADDRESS, self.primary.port),
            ns2=Endpoint(NS_ADDRESS, self.secondary.port),
            ssh_old=Endpoint(self.old.address, self.old.port),
            ssh_new=Endpoint(self.new.address, self.new.port),
            smtp_old=endpoints["old"],
            smtp_parking=endpoints["parking"],
            smtp_new=endpoints["new"],
            pace=pace,
            reckless=self.settings.reckless,
        )
        self._write_plan(render_demo_plan(self.values))

        for switched in self.mtas.values():
            switched.watch()
        self.swarm = Swarm(
            SwarmConfig(
                domain=DOMAIN,
                nameservers=[(NS_ADDRESS, self.primary.port), (NS_ADDRESS, self.secondary.port)],
                smtp_port=endpoints["old"].port,
                mailboxes=MAILBOXES,
                senders=pace.senders,
                interval=pace.sender_interval,
                backoff_first=pace.backoff_first,
                backoff_max=pace.backoff_max,
                messages=self.settings.messages,
                ports={MX_HOSTS[role]: endpoint.port for role, endpoint in endpoints.items()},
            ),
            self.tally_book,
        )
        self._cleanups.append(self.swarm.close)
        self.swarm.start()

    async def _ssh_host(self, name: str, public_key: Path) -> LabSshHost:
        host = LabSshHost(self.directory / name, name=name)
        try:
            await host.start()
        except OSError as exc:
            raise LabError(f"cannot start SSH host {name}: {exc.strerror or exc}") from None
        self._cleanups.append(host.stop)
        host.authorize(public_key)
        return host

    def _write_plan(self, text: str) -> None:
        self.plan_path.write_text(text)
        try:
            load_plan(self.plan_path)
        except PlanError as exc:  # a bug in the template, not the user's doing
            raise LabError(f"the lab wrote a plan it cannot load: {exc}") from None

    async def close(self) -> None:
        """Stops everything (senders first, then servers), in reverse order of starting; safe to call twice."""
        cleanups, self._cleanups = self._cleanups, []
        for cleanup in reversed(cleanups):
            with contextlib.suppress(Exception):
                async with asyncio.timeout(CLEANUP_LIMIT):
                    await cleanup()

    # -- the run's outcome ----------------------------------------------------------------------------

    def stop_submitting(self) -> None:
        if self.swarm is not None:
            self.swarm.stop_submitting()

    @property
    def pending(self) -> int:
        """Messages submitted that no MTA accepted yet (their senders retry)."""
        return self.tally_book.pending()

    async def drain(self, timeout: float | None = None) -> bool:
        """Stop submitting and wait until every message was accepted somewhere; False if some still retry."""
        self.stop_submitting()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (timeout if timeout is not None else self.pace.drain_timeout)
        while self.pending and loop.time() < deadline:
            await asyncio.sleep(0.05)
        return self.pending == 0

    def tally(self, figures: RunFigures | None = None) -> LabTally:
        """The verdict, from the senders' and MTAs' records and from reading both hosts' stores; `figures`
        are the run's (its downtime, when its copies ran), read from its journal by the caller."""
        figures = figures or RunFigures()
        verdict = self.tally_book.verdict(self.store("new").ids(), self.store("old").ids(), figures.moved_before)
        return LabTally(verdict, self.timeline.old_ttl(), figures)


def _zone(endpoints: dict[str, Endpoint], pace: Pace) -> LabZone:
    addresses: dict[str, str | list[str]] = {"ns1": NS_ADDRESS, "ns2": NS_ADDRESS}
    for role, host in MX_HOSTS.items():
        addresses[host] = endpoints[role].address
    return LabZone.build(
        DOMAIN,
        mx=[(10, MX_HOSTS["old"])],
        mx_ttl=pace.normal_ttl,
        ns=("ns1", "ns2"),
        addresses=addresses,
        ttl=3600,
        minimum=max(1, pace.low_ttl),
    )


async def _start_nameserver(server: LabNameserver) -> None:
    """Listen on UDP and TCP; with port 0 a pair of free ports is looked for a few times."""
    wanted = server.port
    for _ in range(BIND_ATTEMPTS if wanted == 0 else 1):
        server.port = wanted
        try:
            await server.start()
            return
        except OSError as exc:
            await server.stop()
            if wanted == 0 and exc.errno == errno.EADDRINUSE:
                continue
            raise LabError(f"cannot serve DNS on {server.host}:{wanted}: {exc.strerror or exc}") from None
    raise LabError(f"cannot find a free DNS port (UDP and TCP) on {server.host}")


async def _close_held(held: dict[str, socket.socket]) -> None:
    """Releases the ports no MTA took over (when the start failed half-way)."""
    for sock in held.values():
        sock.close()
