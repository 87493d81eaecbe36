"""`dns_update`: replace the MX RRset of the plan's domains on a primary nameserver (RFC 2136, TSIG)."""

from __future__ import annotations

from cockpit.dns import TsigKeyError, load_tsig_key, update_mx
from cockpit.dns.update import PrimaryAddressError, primary_address
from cockpit.engine.context import StepContext, StepFailed
from cockpit.engine.kinds.base import KindOf
from cockpit.plan import DnsUpdateStep

UPDATE_TIMEOUT = 10.0


class DnsUpdateKind(KindOf[DnsUpdateStep]):
    async def run(self, ctx: StepContext) -> str:
        step = self.step
        plan = ctx.plan
        secret = plan.secrets.get(step.key)
        if secret is None:
            raise StepFailed(f"the plan has no secret '{step.key}' for the TSIG key")
        try:
            key = load_tsig_key(secret, ctx.base_dir)
        except TsigKeyError as exc:
            raise StepFailed(str(exc)) from None
        ttl = step.ttl if step.ttl is not None else plan.ttl
        if ttl is None:
            raise StepFailed("dns_update needs a TTL: set 'ttl' on the step or the plan")
        try:
            address = await primary_address(step.server.host)
        except PrimaryAddressError as exc:
            raise StepFailed(str(exc)) from None
        port = step.server.port or 53
        records = plan.mx[step.mx]
        domains = step.domains or plan.domains
        done: list[str] = []
        try:
            for domain in domains:
                result = await update_mx(
                    address=address,
                    port=port,
                    server_label=str(step.server),
                    domain=domain,
                    records=records,
                    ttl=ttl,
                    key=key,
                    zone=step.zone,
                    timeout=UPDATE_TIMEOUT,
                )
                ctx.info(result.message)
                if not result.ok:
                    already = f" (already updated: {', '.join(done)})" if done else ""
                    raise StepFailed(result.message + already)
                done.append(domain)
        finally:
            ctx.services.poll_now()
        return f"MX of {', '.join(done)} → {step.mx} (TTL {ttl} s) on {step.server.host}"
