"""`dns_update`: replace the MX RRset of the plan's domains, through RFC 2136 on a primary (TSIG-signed) or
through a DNS provider's API (dns-lexicon). Either way the RRset is read back where it was written, the output
says what each domain held before and holds now (journaled, for undo and the report), and the nameservers are
polled at once."""

from __future__ import annotations

from pathlib import Path

from cockpit.dns import MxChangeError, MxRrsetEditor, TsigKeyError, load_tsig_key
from cockpit.dns.rfc2136_editor import Rfc2136Editor
from cockpit.dns.update import DEFAULT_PREFERENCE, PrimaryAddressError, primary_address
from cockpit.engine.context import StepContext, StepFailed
from cockpit.engine.kinds.base import KindOf
from cockpit.plan import DnsUpdateStep, Plan
from cockpit.plan.models import SecretRef
from cockpit.plan.secret_values import SecretError, SecretValue, read_secret

UPDATE_TIMEOUT = 10.0
PROVIDER_TIMEOUT = 120.0
"""A provider's API: sign in, list, delete, add, list again, with rate-limit waits."""


class DnsUpdateKind(KindOf[DnsUpdateStep]):
    async def run(self, ctx: StepContext) -> str:
        step = self.step
        plan = ctx.plan
        ttl = step.ttl if step.ttl is not None else plan.ttl
        if ttl is None:
            raise StepFailed("dns_update needs a TTL: set 'ttl' on the step or the plan")
        editor = await editor_for(step, plan, ctx)
        records = [(DEFAULT_PREFERENCE if r.preference is None else r.preference, r.host) for r in plan.mx[step.mx]]
        done: list[str] = []
        try:
            for domain in step.domains or plan.domains:
                try:
                    change = await editor.replace_mx(step.zone or domain, records, ttl, domain=domain)
                except MxChangeError as exc:
                    already = f" (already changed: {', '.join(done)})" if done else ""
                    raise StepFailed(exc.message + already) from None
                ctx.info(change.message)
                done.append(domain)
        finally:
            ctx.services.poll_now()
        return f"MX of {', '.join(done)} → {step.mx} (TTL {ttl} s) via {editor.label}"


async def editor_for(step: DnsUpdateStep, plan: Plan, ctx: StepContext) -> MxRrsetEditor:
    """The editor the step's route names: a provider's API, or the RFC 2136 primary with its TSIG key."""
    if step.provider is not None:
        return provider_editor(plan, step.provider, ctx)
    assert step.server is not None and step.key is not None  # the model requires one route
    secret = plan.secrets.get(step.key)
    if secret is None:
        raise StepFailed(f"the plan has no secret '{step.key}' for the TSIG key")
    try:
        key = load_tsig_key(secret, ctx.base_dir)
        address = await primary_address(step.server.host)
    except (TsigKeyError, PrimaryAddressError) as exc:
        raise StepFailed(str(exc)) from None
    return Rfc2136Editor(address, step.server.port or 53, key=key, timeout=UPDATE_TIMEOUT, label=str(step.server))


def provider_editor(
    plan: Plan, name: str, ctx: StepContext | None = None, *, base_dir: Path | None = None
) -> MxRrsetEditor:
    """A LexiconEditor for one of the plan's providers, its `{secret: NAME}` values read now (never shown)."""
    from cockpit.dns.lexicon_editor import LexiconEditor  # lexicon is slow to import: only when used

    provider = plan.providers[name]
    base_dir = ctx.base_dir if ctx is not None else base_dir
    options: dict[str, str | SecretValue] = {}
    for option, value in provider.options.items():
        if isinstance(value, SecretRef):
            secret = plan.secrets.get(value.secret)
            if secret is None:
                raise StepFailed(f"provider {name}: the plan has no secret '{value.secret}' for {option}")
            try:
                options[option] = read_secret(secret, base_dir)
            except SecretError as exc:
                raise StepFailed(f"provider {name}: {option}: {exc}") from None
        else:
            options[option] = value

    def waiting(wait: object) -> None:
        if ctx is not None:
            ctx.info(str(wait))

    try:
        return LexiconEditor(provider.lexicon, options, timeout=PROVIDER_TIMEOUT, on_wait=waiting)
    except MxChangeError as exc:
        raise StepFailed(f"provider {name}: {exc.message}") from None
