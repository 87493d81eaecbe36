"""`canary`: proof at an MX change, taken the way senders see it. The MX is what the plan's nameservers serve
now (a round started after the step began), each MX host is resolved to every address (A and AAAA), and SMTP
is spoken to each: `refused` needs every address to refuse (a refusal makes senders retry soon; an address
that accepts or does not answer fails the step, named); `delivered` sends one message with a unique token
through the MX and finds it in the recipient's mailbox. `from: HOST` speaks SMTP from that plan host.

The step fans out per domain (fanout.py): each domain is checked against the MX its nameservers serve, a
domain whose MX accepts fails alone, and a retry or resume redoes only the domains not done. Within one
attempt each MX host is resolved once and each address probed once, however many domains share them (a
hosting company's 5,000 domains usually share one or two MX hosts). `delivered` fans out when `to` names
`{domain}`: one canary per domain; a domain not journaled as done gets a new canary with a new token on a
retry or resume (one in flight at a kill may leave a second small message in that mailbox)."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import asyncssh

from cockpit.base.units import format_count, format_duration
from cockpit.dns import DiscoveryError, Snapshot, Status
from cockpit.dns.mx_addresses import mx_host_addresses
from cockpit.dns.observation import Server
from cockpit.engine.context import StepContext, StepFailed
from cockpit.engine.events import ListenerProven
from cockpit.engine.fanout import SHOWN_ITEMS, ItemError, ItemOutput, fan_out
from cockpit.engine.kinds.base import KindOf
from cockpit.engine.services import DnsUnavailable
from cockpit.mail import MailError, StoreSpec
from cockpit.mail.host_probes import find_token, remote_delivery, remote_refusal
from cockpit.mail.smtp_canary import canary_message, canary_token, deliver, refusal
from cockpit.plan import CanaryStep
from cockpit.ssh import SshError

FOUND_POLL = 1.0
"""Seconds between two looks for the canary in the mailbox."""

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class Target:
    preference: int
    host: str
    address: str

    def where(self, port: int) -> str:
        address = f"[{self.address}]" if ":" in self.address else self.address
        return f"{address}:{port} ({self.host})"


Line = Callable[[str, str, str], None]
"""Where a line goes: (text, host, stream)."""


class _Once(Generic[K, V]):
    """`make(key)` once per key for the step's attempt, whoever asks; a failure is kept like a result (every
    domain that shares the key fails the same way, without asking again). A cancelled making is not kept."""

    def __init__(self, make: Callable[[K], Awaitable[V]]) -> None:
        self._make = make
        self._locks: dict[K, asyncio.Lock] = {}
        self._kept: dict[K, V | Exception] = {}
        self.made = 0

    async def get(self, key: K) -> tuple[V, bool]:
        """(the value, whether this call made it); raises what making it raised."""
        fresh = False
        async with self._locks.setdefault(key, asyncio.Lock()):
            if key not in self._kept:
                fresh = True
                self.made += 1
                try:
                    self._kept[key] = await self._make(key)
                except Exception as exc:  # kept and raised to each asker
                    self._kept[key] = exc
        kept = self._kept[key]
        if isinstance(kept, Exception):
            raise kept
        return kept, fresh


class CanaryKind(KindOf[CanaryStep]):
    async def run(self, ctx: StepContext) -> str:
        step = self.step
        if step.expect == "delivered" and not step.per_domain:
            assert step.to is not None
            targets = await mx_targets(ctx)
            try:
                return await self._delivered(ctx, targets, step.to, self._line(ctx, None))
            except ItemError as exc:
                raise StepFailed(exc.reason) from None
        served, servers = await served_per_domain(ctx)
        hosts = {host for mx in served.values() for host in mx}
        loud = len(hosts) <= SHOWN_ITEMS  # few MX hosts: each host's and address's line once, for the step
        resolved: _Once[str, tuple[list[str], str]] = _Once(lambda host: mx_host_addresses(host, servers))
        timeout = min(step.timeout / 3 if step.timeout else 10.0, 10.0)  # a third of the step's: all can answer
        probes: _Once[str, tuple[str, str]] = _Once(lambda address: self._probe(ctx, address, timeout))
        proven = False

        async def targets_of(domain: str, line: Line) -> list[Target]:
            mx = served.get(domain)
            if not mx:
                raise ItemError(f"no nameserver answers with an MX for {domain} now", "no MX served")
            targets: list[Target] = []
            for host, preference in sorted(mx.items()):
                try:
                    (addresses, source), fresh = await resolved.get(host)
                except DiscoveryError as exc:
                    raise ItemError(str(exc), f"cannot resolve {host}") from None
                if fresh or not loud:
                    line(f"{host} → {', '.join(addresses)} (from {source})", "cockpit", "info")
                targets += [Target(preference, host, address) for address in addresses]
            return targets

        async def check(domain: str, out: ItemOutput) -> str:
            nonlocal proven
            line = self._line(ctx, None if loud else out)
            targets = await targets_of(domain, line)
            if step.expect == "refused":
                return await self._refused(targets, probes, timeout, line, loud)
            assert step.to is not None  # each domain's SMTP replies are its own: kept with it, like any item's lines
            done = await self._delivered(ctx, targets, step.to.replace("{domain}", domain), self._line(ctx, out),
                                         prove=not proven, progress=len(served) == 1)  # fmt: skip
            proven = True
            return done

        result = await fan_out(ctx, list(served), check, noun="domains")
        if result.total == 1 and not result.earlier:
            return next(iter(result.details.values()))
        if step.expect == "refused":
            return (f"{format_count(result.total)} domains: every MX address refuses SMTP, senders retry later "
                    f"({format_count(probes.made)} address(es) probed, each once; {result.summary()})")  # fmt: skip
        return f"{format_count(result.total)} domains: a canary delivered and found in each ({result.summary()})"

    @staticmethod
    def _line(ctx: StepContext, out: ItemOutput | None) -> Line:
        """The step's output (host and address lines when the MX hosts are few: each once), or an item's (kept
        with its failure; shown as they come for a few items)."""
        if out is None:
            return lambda text, host, stream: ctx.output(host, stream, text)
        return lambda text, host, stream: out.line(text, host, stream)

    async def _refused(
        self, targets: list[Target], probes: _Once[str, tuple[str, str]], timeout: float, line: Line, loud: bool
    ) -> str:
        step = self.step
        outcomes = await asyncio.gather(*(probes.get(target.address) for target in targets))
        wrong, short = [], []
        for target, ((outcome, detail), fresh) in zip(targets, outcomes, strict=True):
            if fresh or not loud:
                line(f"{target.where(step.port)}: {outcome}" + (f" — {detail}" if detail else ""), "cockpit", "info")
            if outcome == "accepted":
                wrong.append(f"{target.where(step.port)} accepts connections ({detail or 'no greeting'}): mail "
                             "would be delivered there")  # fmt: skip
            elif outcome == "filtered":
                silent = f"{target.where(step.port)} does not answer in {format_duration(timeout)} (filtered)"
                wrong.append(f"{silent}: senders would wait a connect timeout on each try; make it refuse (REJECT)")
            elif outcome != "refused":
                wrong.append(f"{target.where(step.port)}: {outcome} {detail}".strip())
            if outcome != "refused":
                short.append(f"{target.address} {outcome}")
        if wrong:
            raise ItemError("; ".join(wrong), ", ".join(short))
        return f"all {len(targets)} MX address(es) refuse SMTP: senders retry later"

    async def _probe(self, ctx: StepContext, address: str, timeout: float) -> tuple[str, str]:
        if self.step.via is None:
            return await refusal(address, self.step.port, timeout)
        conn = await _connect(ctx, self.step.via)
        try:
            return await remote_refusal(conn, self.step.via, address, self.step.port, timeout)
        except SshError as exc:
            raise StepFailed(str(exc)) from None

    async def _delivered(
        self,
        ctx: StepContext,
        targets: list[Target],
        recipient: str,
        line: Line,
        *,
        prove: bool = True,
        progress: bool = True,
    ) -> str:
        step = self.step
        assert step.store is not None  # the model requires it
        user, _, domain = recipient.partition("@")
        token = canary_token()
        sender = f"postmaster@{domain}"
        message = canary_message(token, sender, recipient, domain)
        helo = socket.getfqdn() or "mx-cockpit.invalid"
        timeout = 30.0
        sent_at = ctx.clock.now()
        accepted_by: Target | None = None
        for target in sorted(targets, key=lambda t: (t.preference, t.host, t.address)):
            if step.via is None:
                ok, said = await deliver(target.address, step.port, helo=helo, sender=sender, recipient=recipient,
                                         message=message, timeout=timeout)  # fmt: skip
            else:
                conn = await _connect(ctx, step.via)
                try:
                    ok, said = await remote_delivery(conn, step.via, target.address, step.port, helo=helo,
                                                     sender=sender, recipient=recipient, message=message,
                                                     timeout=timeout)  # fmt: skip
                except SshError as exc:
                    raise StepFailed(str(exc)) from None
            for text in said:
                line(text, target.where(step.port), "smtp")
            if ok:
                accepted_by = target
                break
        if accepted_by is None:
            raise ItemError(f"no MX address accepted the canary for {recipient}: see the SMTP replies above",
                            "not accepted")  # fmt: skip
        store = ctx.plan.stores[step.store]
        mailbox = StoreSpec(store.host, store.format, store.path).fill(user, domain)
        line(f"sent {token} via {accepted_by.where(step.port)}; looking for it in {store.host}:{mailbox}", "cockpit",
             "info")  # fmt: skip
        conn = await _connect(ctx, store.host)
        deadline = sent_at + step.within
        while True:
            try:
                found, exists = await find_token(conn, store.host, store.format, mailbox, token, sent_at - 5)
            except (MailError, SshError) as exc:
                raise StepFailed(str(exc)) from None
            if found is not None:
                waited = format_duration(ctx.clock.now() - sent_at)
                if prove:
                    ctx.publish(ListenerProven(sent_at, step.id, True, f"canary delivered via {accepted_by.host}"))
                return f"canary delivered via {accepted_by.host} and found in {store.host}:{found} after {waited}"
            if ctx.clock.now() >= deadline:
                missing = "" if exists else f" ({mailbox} does not exist on {store.host})"
                raise ItemError(f"the canary was accepted by {accepted_by.where(step.port)} but is not in "
                                f"{step.store} after {format_duration(step.within)}{missing}",
                                "not found in the mailbox")  # fmt: skip
            if progress:
                ctx.progress(f"waiting for the canary in {step.store}: {format_duration(ctx.clock.now() - sent_at)}")
            await ctx.clock.sleep(FOUND_POLL)


async def _fresh_snapshot(ctx: StepContext) -> Snapshot:
    """A polling round that began after this call: what the nameservers serve now, not a round ago."""
    started = ctx.clock.now()
    ctx.services.poll_now()
    try:
        return await ctx.services.next_snapshot(started)
    except DnsUnavailable as exc:
        raise StepFailed(str(exc)) from None


async def mx_targets(ctx: StepContext) -> list[Target]:
    """Every (MX host, address) the plan's nameservers send senders to now, resolved to all its addresses."""
    snapshot = await _fresh_snapshot(ctx)
    hosts = served_mx(snapshot)
    if not hosts:
        raise StepFailed("no nameserver answers with an MX for the plan's domains now")
    ctx.info("MX served now: " + ", ".join(f"{pref} {host}" for host, pref in sorted(hosts.items())))
    servers = list({view.pair.server: None for view in snapshot.pairs})
    targets: list[Target] = []
    for host, preference in sorted(hosts.items()):
        try:
            addresses, source = await mx_host_addresses(host, servers)
        except DiscoveryError as exc:
            raise StepFailed(str(exc)) from None
        ctx.info(f"{host} → {', '.join(addresses)} (from {source})")
        targets += [Target(preference, host, address) for address in addresses]
    return targets


async def served_per_domain(ctx: StepContext) -> tuple[dict[str, dict[str, int]], list[Server]]:
    """Each plan domain → (MX host → its lowest preference) as its nameservers serve it now (empty when none
    answered), and the nameservers asked (where MX hosts are resolved first)."""
    snapshot = await _fresh_snapshot(ctx)
    served: dict[str, dict[str, int]] = {domain: {} for domain in ctx.plan.domains}
    for view in snapshot.pairs:
        if view.observation.status is Status.OK:
            hosts = served.setdefault(view.pair.domain, {})
            for entry in view.observation.mx:
                hosts[entry.host] = min(hosts.get(entry.host, entry.preference), entry.preference)
    everywhere = served_mx(snapshot)
    if not everywhere:
        raise StepFailed("no nameserver answers with an MX for the plan's domains now")
    if len(served) == 1:
        ctx.info("MX served now: " + ", ".join(f"{pref} {host}" for host, pref in sorted(everywhere.items())))
    else:
        sharing = Counter(host for hosts in served.values() for host in hosts)
        shown = sorted(everywhere.items(), key=lambda item: (-sharing[item[0]], item[0]))
        listed = ", ".join(f"{pref} {host} ({format_count(sharing[host])} domains)"
                           for host, pref in shown[:SHOWN_ITEMS])  # fmt: skip
        more = len(shown) - SHOWN_ITEMS
        ctx.info(f"MX served now: {listed}" + (f" and {format_count(more)} more MX hosts" if more > 0 else ""))
    servers = list({view.pair.server: None for view in snapshot.pairs})
    return served, servers


def served_mx(snapshot: Snapshot) -> dict[str, int]:
    """MX host → its lowest preference, over every pair that answered."""
    hosts: dict[str, int] = {}
    for view in snapshot.pairs:
        if view.observation.status is Status.OK:
            for entry in view.observation.mx:
                hosts[entry.host] = min(hosts.get(entry.host, entry.preference), entry.preference)
    return hosts


async def _connect(ctx: StepContext, host: str) -> asyncssh.SSHClientConnection:
    try:
        return await ctx.services.connect(host)
    except SshError as exc:
        raise StepFailed(str(exc)) from None
