"""`dns_update`: replace the MX RRset of the plan's domains, through RFC 2136 on a primary (TSIG-signed) or
through a DNS provider's API (dns-lexicon). Either way the RRset is read back where it was written, the output
says what each domain held before and holds now (journaled, for undo and the report), and the nameservers are
polled at once.

The step fans out per zone (domains grouped by the zone they are changed in), `concurrency` zones at once: a
zone that refuses fails alone, and a retry or a resume redoes only the zones not done. Replacing an RRset is
idempotent, so a zone whose update may have started before a kill is simply updated again."""

from __future__ import annotations

import re

from cockpit.base.units import format_count
from cockpit.dns import MxChangeError, MxRrsetEditor
from cockpit.engine.context import StepContext, StepFailed
from cockpit.engine.events import MxReplaced
from cockpit.engine.fanout import SHOWN_ITEMS, ItemError, ItemOutput, fan_out
from cockpit.engine.kinds.base import KindOf
from cockpit.engine.mx_route import editor_for, mx_records
from cockpit.plan import DnsUpdateStep

_RCODE = re.compile(r"\b(NOTAUTH|REFUSED|SERVFAIL|NXDOMAIN|NOTZONE|FORMERR|NOTIMP|YXDOMAIN|NXRRSET|BAD[A-Z]+)\b")


def zones_of(step: DnsUpdateStep, domains: tuple[str, ...]) -> dict[str, list[str]]:
    """Zone → its domains, in plan order: the step's `zone` holds them all, else each domain is its zone."""
    zones: dict[str, list[str]] = {}
    for domain in domains:
        zones.setdefault(step.zone or domain, []).append(domain)
    return zones


def short_reason(message: str) -> str:
    """What a failed zone is called in the step's summary: the rcode, `timed out`, or the message's start."""
    found = _RCODE.search(message)
    if found:
        return found.group(1)
    if "no answer" in message or "timed out" in message:
        return "timed out"
    return message


class DnsUpdateKind(KindOf[DnsUpdateStep]):
    async def run(self, ctx: StepContext) -> str:
        step = self.step
        plan = ctx.plan
        ttl = step.ttl if step.ttl is not None else plan.ttl
        if ttl is None:
            raise StepFailed("dns_update needs a TTL: set 'ttl' on the step or the plan")
        editor = await editor_for(step, plan, ctx.base_dir, ctx.info)
        zones = zones_of(step, step.domains or plan.domains)

        async def update(zone: str, out: ItemOutput) -> str:
            return await self._zone(ctx, editor, zone, zones[zone], ttl, out)

        try:
            result = await fan_out(ctx, list(zones), update, noun="zones")
        finally:
            ctx.services.poll_now()
        if result.total <= SHOWN_ITEMS and not result.earlier:
            done = ", ".join(domain for zone in zones for domain in zones[zone])
            return f"MX of {done} → {step.mx} (TTL {ttl} s) via {editor.label}"
        what = f"MX → {step.mx} (TTL {ttl} s) via {editor.label}"
        return f"{format_count(result.total)} zones: {what}; {result.summary()}"

    async def _zone(
        self, ctx: StepContext, editor: MxRrsetEditor, zone: str, domains: list[str], ttl: int, out: ItemOutput
    ) -> str:
        """Each domain of one zone in turn; a failure names the domains of the zone already changed."""
        step = self.step
        done: list[str] = []
        for domain in domains:
            try:
                change = await editor.replace_mx(zone, mx_records(ctx.plan.mx_records(step.mx, domain)), ttl,
                                                 domain=domain)  # fmt: skip
            except MxChangeError as exc:
                already = f" (already changed: {', '.join(done)})" if done else ""
                raise ItemError(exc.message + already, short_reason(exc.message)) from None
            before = tuple((r.preference, r.host) for r in change.before)
            after = tuple((r.preference, r.host) for r in change.after)
            ctx.publish(MxReplaced(ctx.clock.now(), step.id, change.domain, change.zone, before, after, change.ttl,
                                   change.via))  # fmt: skip
            out.line(change.message)
            done.append(change.domain)
        return f"MX of {', '.join(done)} → {step.mx} (TTL {ttl} s) via {editor.label}"
