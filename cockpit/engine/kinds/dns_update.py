"""`dns_update`: replace the MX RRset of the plan's domains, through RFC 2136 on a primary (TSIG-signed) or
through a DNS provider's API (dns-lexicon). Either way the RRset is read back where it was written, the output
says what each domain held before and holds now (journaled, for undo and the report), and the nameservers are
polled at once."""

from __future__ import annotations

from cockpit.engine.context import StepContext, StepFailed
from cockpit.engine.kinds.base import KindOf
from cockpit.engine.mx_route import editor_for, replace_everywhere, state_records
from cockpit.plan import DnsUpdateStep


class DnsUpdateKind(KindOf[DnsUpdateStep]):
    async def run(self, ctx: StepContext) -> str:
        step = self.step
        plan = ctx.plan
        ttl = step.ttl if step.ttl is not None else plan.ttl
        if ttl is None:
            raise StepFailed("dns_update needs a TTL: set 'ttl' on the step or the plan")
        editor = await editor_for(step, plan, ctx.base_dir, ctx.info)
        try:
            changes = await replace_everywhere(editor, step, plan, state_records(plan, step.mx), ttl, step_id=step.id,
                                               now=ctx.clock.now, publish=ctx.publish, say=ctx.info)  # fmt: skip
        finally:
            ctx.services.poll_now()
        done = ", ".join(change.domain for change in changes)
        return f"MX of {done} → {step.mx} (TTL {ttl} s) via {editor.label}"
