"""The retreats: parking the MX from wherever the move stands, and undoing one DNS change.

Parking loses nothing: while the MX points at an address that refuses, senders queue the mail and retry for
days. So whatever goes wrong, the safe retreat is "park now, fix, go on": check that the parking address
really refuses, point every domain's MX at the plan's parking state through the plan's own route, and wait
until every nameserver serves it. Undoing a dns_update restores what it replaced (journaled by MxReplaced),
but never sends mail back to the old host once mail was copied to or accepted by the new one (the mailboxes
would split), unless forced.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cockpit.base.units import format_duration
from cockpit.dns import DiscoveryError, Snapshot
from cockpit.dns.mx_addresses import mx_host_addresses
from cockpit.engine.context import StepFailed
from cockpit.engine.events import Event, Retreat
from cockpit.engine.mx_route import editor_for, first_route, mx_records, replace_everywhere, state_records
from cockpit.engine.services import DnsUnavailable, RunServices
from cockpit.mail.smtp_canary import refusal
from cockpit.plan import CanaryStep, DnsUpdateStep, Plan
from cockpit.plan.mx_summary import describe_state, domains_text

PARKING = "parking"
PROBE_TIMEOUT = 5.0
FIRST_ROUND_TIMEOUT = 60.0
"""Nameserver discovery plus one round of every pair."""
SETTLE_TIMEOUT = 1800.0
"""How long a retreat waits for every nameserver to serve it before it says it is not there yet."""


class RetreatRefused(Exception):
    """The retreat would be unsafe or cannot be done; the message says why and what to do instead."""


@dataclass
class RetreatContext:
    plan: Plan
    base_dir: Path
    services: RunServices
    publish: Callable[[Event], None]
    now: Callable[[], float]
    say: Callable[[str], None]


def parking_state(plan: Plan) -> str:
    """The plan's parking MX state: the one named `parking`, else the middle one of three."""
    states = list(plan.mx)
    if PARKING in plan.mx:
        return PARKING
    if len(states) == 3:
        return states[1]
    raise RetreatRefused("the plan has no parking state: name the MX state of the refusing address 'parking'")


def smtp_port(plan: Plan) -> int:
    """The port senders use in this plan: the one its `canary: {expect: refused}` probes, else 25."""
    ports = [s.port for _, s in plan.steps() if isinstance(s, CanaryStep) and s.expect == "refused"]
    return ports[0] if ports else 25


def route_label(plan: Plan) -> str:
    """How the plan changes its MX, in words: the route park and undo take."""
    route = first_route(plan)
    if route is None:
        return "by hand at the DNS host (the plan's MX changes are confirm steps)"
    if route.provider is not None:
        return f"through provider {route.provider} ({plan.providers[route.provider].lexicon})"
    return f"by dynamic update to {route.server} with key {route.key}"


def describe_park(plan: Plan) -> str:
    """What parking will change, for the question asked first."""
    state = parking_state(plan)
    wanted = describe_state(plan, state)
    return (f"park: the MX of {domains_text(plan.domains)} → {state} ({wanted}) {route_label(plan)}, once its "
            f"address is seen to refuse mail on port {smtp_port(plan)}")  # fmt: skip


def describe_undo(records: Sequence[dict[str, Any]], step_id: str) -> str:
    """What undoing `step_id` will restore, for the question asked first."""
    parts = []
    for record in records:
        if record.get("type") == "MxReplaced" and record.get("step_id") == step_id:
            before = ", ".join(f"{pref if pref is not None else 10} {host}" for pref, host in record.get("before", ()))
            parts.append(f"{record.get('domain')} back to {before or '(no MX)'}")
    if not parts:
        raise RetreatRefused(f"the journal holds no MX change of step {step_id}: nothing to undo")
    return f"undo {step_id}: the MX of " + "; ".join(dict.fromkeys(parts))


async def journaled(ctx: RetreatContext, action: str, step_id: str, work: Awaitable[str]) -> str:
    """Await a retreat, journaling a refusal or failure as a Retreat event (success journals itself)."""
    try:
        return await work
    except RetreatRefused as exc:
        ctx.publish(Retreat(ctx.now(), action, step_id, f"refused: {exc}"))
        raise
    except StepFailed as exc:
        ctx.publish(Retreat(ctx.now(), action, step_id, f"failed: {exc}"))
        raise
    except asyncio.CancelledError:
        ctx.publish(Retreat(ctx.now(), action, step_id, "failed: stopped before it ended"))
        raise


async def park(ctx: RetreatContext, *, settle_timeout: float = SETTLE_TIMEOUT) -> str:
    """Point every domain at the parking state, after checking that it refuses; returns the result line."""
    plan, state = ctx.plan, parking_state(ctx.plan)
    await _parking_refuses(ctx, state)
    route = first_route(plan)
    if route is None:
        wanted = describe_state(plan, state)
        ttl_note = f" (TTL {plan.ttl} s)" if plan.ttl else ""
        domains = domains_text(plan.domains)
        ctx.say(f"make this change by hand at the DNS host: the MX of {domains} → {wanted}{ttl_note}; "
                "waiting for every nameserver to serve it")  # fmt: skip
    else:
        ttl = plan.ttl if plan.ttl is not None else route.ttl
        if ttl is None:
            raise RetreatRefused("the plan has no 'ttl' to park with")
        editor = await editor_for(route, plan, ctx.base_dir, ctx.say)
        await replace_everywhere(editor, route, plan, state_records(plan, state), ttl, step_id="park", now=ctx.now,
                                 publish=ctx.publish,
                                 say=ctx.say, domains=plan.domains)  # fmt: skip
    waited = await _until_served(ctx, state, settle_timeout)
    ctx.publish(Retreat(ctx.now(), "park", "", "done"))
    return f"every nameserver serves the {state} MX ({format_duration(waited)} after the change)"


async def _parking_refuses(ctx: RetreatContext, state: str) -> None:
    port = smtp_port(ctx.plan)
    servers = [view.pair.server for view in (await _snapshot(ctx)).pairs]
    problems = []
    for host in ctx.plan.mx[state].hosts():
        try:
            addresses, _ = await mx_host_addresses(host, servers)
        except DiscoveryError as exc:
            raise RetreatRefused(str(exc)) from None
        outcomes = await asyncio.gather(*(refusal(address, port, PROBE_TIMEOUT) for address in addresses))
        for address, (outcome, detail) in zip(addresses, outcomes, strict=True):
            ctx.say(f"{address}:{port} ({host}): {outcome}" + (f" — {detail}" if detail else ""))
            if outcome != "refused":
                problems.append(f"{address}:{port} ({host}) is {outcome}")
    if problems:
        raise RetreatRefused(f"the parking address does not refuse: {'; '.join(problems)} — parking there would "
                             "deliver mail (or make senders wait); fix it first")  # fmt: skip


async def _snapshot(ctx: RetreatContext) -> Snapshot:
    if not ctx.services.watch_dns:
        raise RetreatRefused("this run does not watch the nameservers, so it cannot park safely")
    ctx.services.poll_now()
    try:
        return await asyncio.wait_for(ctx.services.next_snapshot(0.0), FIRST_ROUND_TIMEOUT)
    except DnsUnavailable as exc:
        raise RetreatRefused(str(exc)) from None
    except TimeoutError:
        raise RetreatRefused(f"no round of the nameservers in {format_duration(FIRST_ROUND_TIMEOUT)}: "
                             "the cockpit cannot see the DNS, so it cannot park safely") from None  # fmt: skip


async def _until_served(ctx: RetreatContext, state: str, timeout: float) -> float:
    began = ctx.now()
    ctx.services.poll_now()
    newer_than = began
    while True:
        try:
            snapshot = await asyncio.wait_for(
                ctx.services.next_snapshot(newer_than), max(1.0, began + timeout - ctx.now())
            )
        except (DnsUnavailable, TimeoutError):
            raise RetreatRefused(f"not every nameserver serves the {state} MX after {format_duration(timeout)}; "
                                 "it was changed: watch with cockpit watch") from None  # fmt: skip
        ctx.say(f"{snapshot.count(state)} of {len(snapshot.pairs)} nameservers serve the {state} MX")
        if snapshot.converged(state):
            return ctx.now() - began
        newer_than = snapshot.finished_at


def _mail_moved_since(records: Sequence[dict[str, Any]], since: float) -> str | None:
    """What shows mail went to the new host after `since`: a sync pass that copied, a proven listener."""
    for record in records:
        at = record.get("at")
        if not isinstance(at, int | float) or at < since:
            continue
        if record.get("type") == "SyncPass" and int(record.get("messages", 0)) > 0:
            return f"step {record.get('step_id')} copied {record.get('messages')} messages to {record.get('dest')}"
        if record.get("type") == "ListenerProven":
            return f"step {record.get('step_id')} proved the new MTA receives mail"
    return None


async def undo(
    ctx: RetreatContext,
    records: Sequence[dict[str, Any]],
    step_id: str,
    *,
    force: bool,
    settle_timeout: float = SETTLE_TIMEOUT,
) -> str:
    """Restore what the dns_update step `step_id` replaced; refuses to send mail back to old once mail moved."""
    plan = ctx.plan
    step = next((s for _, s in plan.steps() if s.id == step_id), None)
    if not isinstance(step, DnsUpdateStep):
        raise RetreatRefused(f"step {step_id} is not a dns_update step of the plan: only MX changes can be undone")
    replaced: dict[str, dict[str, Any]] = {}
    for record in records:
        if record.get("type") == "MxReplaced" and record.get("step_id") == step_id:
            replaced[str(record.get("domain"))] = record
    if not replaced:
        raise RetreatRefused(f"the journal holds no MX change of step {step_id}: nothing to undo")
    first = next(iter(plan.mx))
    since = min(float(r["at"]) for r in replaced.values())
    sends_to_old = any(
        _host(host) in {_host(old.host) for old in plan.mx_records(first, domain)}
        for domain, r in replaced.items()
        for _, host in r.get("before", ())
    )
    moved = _mail_moved_since(records, since)
    if sends_to_old and moved and not force:
        raise RetreatRefused(f"undoing {step_id} points the MX back at the old host, but {moved}: the mailboxes "
                             "would split. Park instead, or undo with --force")  # fmt: skip
    ttl = plan.ttl if plan.ttl is not None else step.ttl
    if ttl is None:
        raise RetreatRefused("the plan has no 'ttl' to restore the MX with")
    editor = await editor_for(step, plan, ctx.base_dir, ctx.say)
    restore = {domain: _restored(record) for domain, record in replaced.items()}
    for domain, before in restore.items():
        if not before:
            raise RetreatRefused(f"{domain} had no MX before {step_id}: there is nothing to restore")
    await replace_everywhere(editor, step, plan, restore.__getitem__, ttl, step_id=f"undo {step_id}", now=ctx.now,
                             publish=ctx.publish, say=ctx.say, domains=list(restore))  # fmt: skip
    restored = {_state_of(plan, domain, before) for domain, before in restore.items()}
    state = next(iter(restored)) if len(restored) == 1 else None
    if state is None:
        ctx.services.poll_now()
        ctx.say("the restored MX is none of the plan's MX states: watch it with cockpit watch")
        served = ""
    else:
        waited = await _until_served(ctx, state, settle_timeout)
        served = f"; every nameserver serves the {state} MX ({format_duration(waited)} after the change)"
    ctx.publish(Retreat(ctx.now(), "undo", step_id, "done"))
    return f"the MX of {', '.join(replaced)} is back to what it was before {step_id}{served}"


def _host(name: object) -> str:
    return str(name).lower().rstrip(".")


def _restored(record: dict[str, Any]) -> list[tuple[int, str]]:
    return [(10 if pref is None else int(pref), str(host)) for pref, host in record.get("before", ())]


def _state_of(plan: Plan, domain: str, records: list[tuple[int, str]]) -> str | None:
    """The plan's MX state that means exactly these records for `domain` (hosts compared without case or
    final dot)."""

    def norm(items: Sequence[tuple[int, str]]) -> set[tuple[int, str]]:
        return {(pref, host.lower().rstrip(".")) for pref, host in items}

    return next((name for name in plan.mx if norm(mx_records(plan.mx_records(name, domain))) == norm(records)), None)


__all__ = [
    "RetreatContext",
    "RetreatRefused",
    "StepFailed",
    "describe_park",
    "describe_undo",
    "journaled",
    "park",
    "parking_state",
    "undo",
]
