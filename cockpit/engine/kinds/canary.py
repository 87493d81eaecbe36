"""`canary`: proof at an MX change, taken the way senders see it. The MX is what the plan's nameservers serve
now (a round started after the step began), each MX host is resolved to every address (A and AAAA), and SMTP
is spoken to each: `refused` needs every address to refuse (a refusal makes senders retry soon; an address
that accepts or does not answer fails the step, named); `delivered` sends one message with a unique token
through the MX and finds it in the recipient's mailbox. `from: HOST` speaks SMTP from that plan host."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass

import asyncssh

from cockpit.base.units import format_duration
from cockpit.dns import DiscoveryError, Snapshot, Status
from cockpit.dns.mx_addresses import mx_host_addresses
from cockpit.engine.context import StepContext, StepFailed
from cockpit.engine.events import ListenerProven
from cockpit.engine.kinds.base import KindOf
from cockpit.engine.services import DnsUnavailable
from cockpit.mail import MailError
from cockpit.mail.host_probes import find_token, remote_delivery, remote_refusal
from cockpit.mail.smtp_canary import canary_message, canary_token, deliver, refusal
from cockpit.plan import CanaryStep
from cockpit.ssh import SshError

FOUND_POLL = 1.0
"""Seconds between two looks for the canary in the mailbox."""


@dataclass(frozen=True)
class Target:
    preference: int
    host: str
    address: str

    def where(self, port: int) -> str:
        address = f"[{self.address}]" if ":" in self.address else self.address
        return f"{address}:{port} ({self.host})"


class CanaryKind(KindOf[CanaryStep]):
    async def run(self, ctx: StepContext) -> str:
        step = self.step
        targets = await mx_targets(ctx)
        if step.expect == "refused":
            return await self._refused(ctx, targets)
        return await self._delivered(ctx, targets)

    async def _refused(self, ctx: StepContext, targets: list[Target]) -> str:
        step = self.step
        timeout = min(step.timeout / 3 if step.timeout else 10.0, 10.0)  # a third of the step's: all can answer
        outcomes = await asyncio.gather(*(self._probe(ctx, target, timeout) for target in targets))
        wrong = []
        for target, (outcome, detail) in zip(targets, outcomes, strict=True):
            ctx.info(f"{target.where(step.port)}: {outcome}" + (f" — {detail}" if detail else ""))
            if outcome == "accepted":
                wrong.append(f"{target.where(step.port)} accepts connections ({detail or 'no greeting'}): mail "
                             "would be delivered there")  # fmt: skip
            elif outcome == "filtered":
                silent = f"{target.where(step.port)} does not answer in {format_duration(timeout)} (filtered)"
                wrong.append(f"{silent}: senders would wait a connect timeout on each try; make it refuse (REJECT)")
            elif outcome != "refused":
                wrong.append(f"{target.where(step.port)}: {outcome} {detail}".strip())
        if wrong:
            raise StepFailed("; ".join(wrong))
        return f"all {len(targets)} MX address(es) refuse SMTP: senders retry later"

    async def _probe(self, ctx: StepContext, target: Target, timeout: float) -> tuple[str, str]:
        if self.step.via is None:
            return await refusal(target.address, self.step.port, timeout)
        conn = await _connect(ctx, self.step.via)
        try:
            return await remote_refusal(conn, self.step.via, target.address, self.step.port, timeout)
        except SshError as exc:
            raise StepFailed(str(exc)) from None

    async def _delivered(self, ctx: StepContext, targets: list[Target]) -> str:
        step = self.step
        assert step.to is not None and step.store is not None  # the model requires them
        user, _, domain = step.to.partition("@")
        token = canary_token()
        sender = f"postmaster@{domain}"
        message = canary_message(token, sender, step.to, domain)
        helo = socket.getfqdn() or "mx-cockpit.invalid"
        timeout = 30.0
        sent_at = ctx.clock.now()
        accepted_by: Target | None = None
        for target in sorted(targets, key=lambda t: (t.preference, t.host, t.address)):
            if step.via is None:
                ok, said = await deliver(target.address, step.port, helo=helo, sender=sender, recipient=step.to,
                                         message=message, timeout=timeout)  # fmt: skip
            else:
                conn = await _connect(ctx, step.via)
                try:
                    ok, said = await remote_delivery(conn, step.via, target.address, step.port, helo=helo,
                                                     sender=sender, recipient=step.to, message=message,
                                                     timeout=timeout)  # fmt: skip
                except SshError as exc:
                    raise StepFailed(str(exc)) from None
            for line in said:
                ctx.output(target.where(step.port), "smtp", line)
            if ok:
                accepted_by = target
                break
        if accepted_by is None:
            raise StepFailed(f"no MX address accepted the canary for {step.to}: see the SMTP replies above")
        store = ctx.plan.stores[step.store]
        mailbox = store.path.replace("{user}", user).replace("{domain}", domain)
        ctx.info(f"sent {token} via {accepted_by.where(step.port)}; looking for it in {store.host}:{mailbox}")
        conn = await _connect(ctx, store.host)
        deadline = sent_at + step.within
        while True:
            try:
                found, exists = await find_token(conn, store.host, store.format, mailbox, token, sent_at - 5)
            except (MailError, SshError) as exc:
                raise StepFailed(str(exc)) from None
            if found is not None:
                waited = format_duration(ctx.clock.now() - sent_at)
                ctx.publish(ListenerProven(sent_at, step.id, True, f"canary delivered via {accepted_by.host}"))
                return f"canary delivered via {accepted_by.host} and found in {store.host}:{found} after {waited}"
            if ctx.clock.now() >= deadline:
                missing = "" if exists else f" ({mailbox} does not exist on {store.host})"
                raise StepFailed(f"the canary was accepted by {accepted_by.where(step.port)} but is not in "
                                 f"{step.store} after {format_duration(step.within)}{missing}")  # fmt: skip
            ctx.progress(f"waiting for the canary in {step.store}: {format_duration(ctx.clock.now() - sent_at)}")
            await ctx.clock.sleep(FOUND_POLL)


async def mx_targets(ctx: StepContext) -> list[Target]:
    """Every (MX host, address) the plan's nameservers send senders to now, resolved to all its addresses."""
    started = ctx.clock.now()
    ctx.services.poll_now()
    try:
        snapshot = await ctx.services.next_snapshot(started)
    except DnsUnavailable as exc:
        raise StepFailed(str(exc)) from None
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
