"""What step kinds share during a run: the DNS watcher, SSH connections, secrets, and resumed state.

The DNS watcher runs for the whole run as its own task, from `start()` to `close()`: it finds the pairs to
watch (the plan's nameservers, or each domain's NS records), polls them every `dns.interval`, and its flips
and rounds become `DnsFlip` and `DnsRound` events on the run's bus. SSH connections open on first use and
are reused by every step on the same host.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import asyncssh

from cockpit.base.clock import Clock, SystemClock
from cockpit.base.units import format_clock, format_duration
from cockpit.dns import DiscoveryError, DnsWatcher, Flip, RoundDone, Snapshot, WatchEvent, watch_pairs
from cockpit.engine.events import DnsFlip, DnsRound, DnsTtl, EventBus, Notice
from cockpit.engine.resume import ResumePoint
from cockpit.engine.ttl_history import FormerTtl, TtlHistory
from cockpit.engine.watch_thread import THREAD_OVER, WatchThread
from cockpit.plan import Plan
from cockpit.ssh import HostConnections, PassphrasePrompt, SshError

DISCOVERY_TIMEOUT = 30.0


@dataclass
class RunServices:
    plan: Plan
    base_dir: Path
    clock: Clock
    bus: EventBus
    resume: ResumePoint = field(default_factory=ResumePoint)
    passphrase: PassphrasePrompt | None = None
    """Asks for an SSH key's passphrase (the terminal or the screen); None skips encrypted keys."""
    watch_dns: bool = True
    """False leaves the nameservers alone (plans without DNS steps in tests)."""
    state_prefix: Path | None = None
    """Where files a step keeps for later runs go (`.cockpit/PLAN.yaml`), next to the journal; None when the
    run has no journal (a dry run, tests): they then live in memory only."""
    verify_hosts_first: bool = True
    """Log in to every plan host before the first step that changes anything (False: tests whose plans name
    hosts that do not exist)."""
    watcher: DnsWatcher | None = field(default=None, init=False)
    dns_problem: str = field(default="", init=False)
    """Why there is no DNS watcher (discovery failed), for the steps that need one."""
    _connections: HostConnections | None = field(default=None, init=False)
    _watch_task: asyncio.Task[None] | None = field(default=None, init=False)
    _round: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _remove_listener: Callable[[], None] | None = field(default=None, init=False)
    _thread: WatchThread | None = field(default=None, init=False)
    """The watcher's own thread, for plans of many pairs."""
    _ttls: dict[tuple[str, str], int] = field(default_factory=dict, init=False)
    """The MX TTL each pair served at its latest observation in this run."""
    ttl_history: TtlHistory = field(default_factory=TtlHistory, init=False)

    # ----------------------------------------------------------------- lifetime

    async def start(self) -> None:
        """Start the services that run for the whole run (the DNS watcher); returns at once."""
        if self.watch_dns and self._watch_task is None:
            self._watch_task = asyncio.ensure_future(self._watch())

    async def close(self) -> None:
        """Stop the watcher and close every SSH connection."""
        task, self._watch_task = self._watch_task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self.watcher is not None and self._thread is None:  # a watcher on a thread closes there
            with contextlib.suppress(Exception):
                await self.watcher.close()
        if self._connections is not None:
            await self._connections.close()

    # ----------------------------------------------------------------- DNS

    async def _watch(self) -> None:
        plan = self.plan
        try:
            async with asyncio.timeout(DISCOVERY_TIMEOUT):
                pairs = await watch_pairs(plan.domains, plan.nameservers)
        except (DiscoveryError, TimeoutError, OSError) as exc:
            reason = str(exc) or f"no answer in {format_duration(DISCOVERY_TIMEOUT)}"
            self._dns_failed(f"cannot find the nameservers to watch: {reason}")
            return
        if not pairs:
            self._dns_failed("no nameservers to watch: list them under 'nameservers' in the plan")
            return

        def make() -> DnsWatcher:
            return DnsWatcher(
                pairs,
                states=plan.mx_states,
                interval=plan.dns.interval,
                timeout=plan.dns.timeout,
                concurrency=plan.dns.concurrency,
                clock=self.clock,
            )

        if len(pairs) > THREAD_OVER and isinstance(self.clock, SystemClock):
            await self._watch_on_thread(make)
            return
        watcher = make()
        self.watcher = watcher
        self._remove_listener = watcher.add_listener(self._on_watch_event)
        try:
            await watcher.run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug in the watcher must not end the run silently
            self._dns_failed(f"the DNS watcher stopped: {type(exc).__name__}: {exc}")

    async def _watch_on_thread(self, make: Callable[[], DnsWatcher]) -> None:
        """A large plan's watcher polls on a thread of its own (see watch_thread.py)."""
        thread = self._thread = WatchThread(make, self._on_watch_event)
        watching = asyncio.ensure_future(thread.run())
        try:
            while thread.watcher is None and not watching.done():
                await asyncio.sleep(0.01)
            self.watcher = thread.watcher
            await watching
        except asyncio.CancelledError:
            watching.cancel()
            await asyncio.gather(watching, return_exceptions=True)
            raise
        except Exception as exc:  # a bug in the watcher must not end the run silently
            self._dns_failed(f"the DNS watcher stopped: {type(exc).__name__}: {exc}")

    def _dns_failed(self, why: str) -> None:
        self.dns_problem = why
        self.bus.publish(Notice(self.clock.now(), "error", why))
        self._wake_waiters()

    def _on_watch_event(self, event: WatchEvent) -> None:
        if isinstance(event, Flip):
            before = f"{' '.join(str(e) for e in event.before_mx)}" or "nothing"
            after = f"{' '.join(str(e) for e in event.after_mx)}"
            self.bus.publish(
                DnsFlip(
                    event.at,
                    event.pair.domain,
                    event.pair.server.label,
                    event.before,
                    event.after or "other",
                    event.ttl,
                    f"{before} → {after}",
                    previous_ttl=event.previous_ttl,
                    expires=event.expires,
                )
            )
        elif isinstance(event, RoundDone):
            self._ttl_changes(event.snapshot)
            self.bus.publish(DnsRound(self.clock.now(), event.snapshot))
            self._wake_waiters()

    def _ttl_changes(self, snapshot: Snapshot) -> None:
        """Journal each pair's MX TTL when it is first seen and whenever it changes (for former_ttl)."""
        for view in snapshot.pairs:
            observation = view.observation
            if not observation.status.authoritative or observation.ttl is None:
                continue
            pair = (view.pair.domain, view.pair.server.label)
            before = self._ttls.get(pair)
            if before == observation.ttl:
                continue
            self._ttls[pair] = observation.ttl
            at = snapshot.finished_at
            self.ttl_history.record(pair[0], pair[1], before, observation.ttl, at)
            self.bus.publish(DnsTtl(at, pair[0], pair[1], before, observation.ttl))

    def state_file(self, name: str) -> Path | None:
        """`.cockpit/PLAN.yaml.NAME`, or None without a journal."""
        return None if self.state_prefix is None else self.state_prefix.with_name(f"{self.state_prefix.name}.{name}")

    def resume_from(self, point: ResumePoint) -> None:
        """Take what the journal of earlier runs knows: countdown deadlines, flips, the TTLs pairs served."""
        self.resume = point
        for record in point.ttls:
            domain, nameserver = str(record.get("domain")), str(record.get("nameserver"))
            before, after = record.get("before"), record.get("after")
            if isinstance(after, int):
                self.ttl_history.record(domain, nameserver, before if isinstance(before, int) else None, after,
                                        float(record.get("at", 0.0)))  # fmt: skip
                self._ttls[(domain, nameserver)] = after

    def former_ttl(self) -> FormerTtl:
        """For `countdown: former_ttl`: when the copies cached before the TTL was lowered to the plan's `ttl`
        have all expired (this run's observations and the journal's of earlier runs)."""
        if self.plan.ttl is None:
            return FormerTtl(None, 0.0, "former_ttl needs the plan's 'ttl' (the lowered TTL)")
        if not self._ttls:
            return FormerTtl(None, 0.0, self.dns_problem or "no MX TTL observed yet")
        return self.ttl_history.former_ttl(self.plan.ttl)

    def _wake_waiters(self) -> None:
        self._round.set()
        self._round = asyncio.Event()

    def can_poll(self) -> bool:
        """There is a watcher to poll (none when the run does not watch DNS, or discovery failed)."""
        return self.watcher is not None

    def poll_now(self) -> None:
        """Poll every nameserver now (the `g` key, and after a DNS update)."""
        if self._thread is not None:
            self._thread.poll_now()
        elif self.watcher is not None:
            self.watcher.poll_now()

    def latest(self) -> Snapshot | None:
        return self.watcher.latest if self.watcher is not None else None

    async def next_snapshot(self, newer_than: float) -> Snapshot:
        """The first snapshot of a round that started at or after `newer_than` (wall clock)."""
        while True:
            if self.dns_problem:
                raise DnsUnavailable(self.dns_problem)
            latest = self.latest()
            if latest is not None and latest.started_at >= newer_than:
                return latest
            await self._round.wait()

    def old_ttl(self, target: str) -> tuple[int | None, float, str]:
        """(TTL, since, explanation) for `countdown: old_ttl`: the largest TTL the MX had on any nameserver
        before it flipped into `target`, counted from the last flip; TTL None when it cannot be known."""
        watcher = self.watcher
        if watcher is not None:
            live = _read_history(lambda: watcher.history.old_ttl(target))
            if live.ttl is not None and live.since is not None:
                served = format_clock(live.since)
                return live.ttl, live.since, f"old MX TTL {live.ttl} s, served until {served} ({live.detail})"
            problem = live.detail
        else:
            problem = self.dns_problem or "no DNS observations yet"
        journaled = _old_ttl_from_flips(self.resume.flips, target)
        if journaled is not None:
            ttl, since = journaled
            served = format_clock(since)
            return ttl, since, f"old MX TTL {ttl} s, served until {served} (from the journal of the earlier run)"
        return None, 0.0, f"the old MX TTL is unknown: {problem}"

    # ----------------------------------------------------------------- SSH

    @property
    def connections(self) -> HostConnections:
        if self._connections is None:
            self._connections = HostConnections.for_plan(self.plan, self.base_dir, passphrase=self.passphrase)
        return self._connections

    async def connect(self, host: str) -> asyncssh.SSHClientConnection:
        return await self.connections.connect(host)

    async def verify_hosts(self) -> dict[str, SshError]:
        """Log in to every plan host now (host keys verified), keeping the connections for the steps; returns
        the hosts that failed with why. Run before the first step that changes anything, so that a changed
        host key stops the run before any server was touched."""
        names = list(self.plan.hosts)

        async def one(name: str) -> SshError | None:
            try:
                await self.connect(name)
            except SshError as exc:
                return exc
            return None

        results = await asyncio.gather(*(one(name) for name in names))
        return {name: error for name, error in zip(names, results, strict=True) if error is not None}

    def drop(self, host: str) -> None:
        """Forget a broken connection so that the next step opens a fresh one."""
        if self._connections is not None:
            self._connections.drop(host)

    def countdown_state(self, step_id: str) -> tuple[float, float, float | None, str] | None:
        """The deadline of a countdown that a previous run started, if any."""
        return self.resume.countdowns.get(step_id)


class DnsUnavailable(Exception):
    """There is no DNS watcher in this run (discovery failed); the message says why."""


def _old_ttl_from_flips(flips: list[dict[str, Any]], target: str) -> tuple[int, float] | None:
    """From journaled DnsFlip records: (ttl, since) of the latest expiry among each pair's last flip into
    `target` (the same rule as the live watcher's history)."""
    last: dict[tuple[str, str], dict[str, Any]] = {}
    for record in flips:
        if record.get("after") == target:
            last[(str(record.get("domain")), str(record.get("nameserver")))] = record
    ends = [
        (float(r["expires"][0]), int(r["expires"][1]), float(r["expires"][2]))
        for r in last.values()
        if isinstance(r.get("expires"), list | tuple) and len(r["expires"]) == 3
    ]
    if not ends:
        return None
    _, ttl, since = max(ends)
    return ttl, since


T = TypeVar("T")


def _read_history(read: Callable[[], T]) -> T:
    """Read the watcher's history; on its own thread, a round may change it meanwhile: read again."""
    for _ in range(4):
        try:
            return read()
        except RuntimeError:  # "dictionary changed size during iteration"
            continue
    return read()
