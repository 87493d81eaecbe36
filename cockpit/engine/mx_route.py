"""How a plan changes the MX: through a `dns_update` step's route (an RFC 2136 primary with its TSIG key, or a
DNS provider's API). The step uses it, and so do the retreats (park, undo), which take the plan's first route.
Every change journals the RRset it replaced (MxReplaced), so that it can be undone."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from cockpit.dns import MxChange, MxChangeError, MxRrsetEditor, TsigKeyError, load_tsig_key
from cockpit.dns.mx_rrset import ZoneMx
from cockpit.dns.rfc2136_editor import Rfc2136Editor
from cockpit.dns.update import DEFAULT_PREFERENCE, PrimaryAddressError, primary_address
from cockpit.engine.context import StepFailed
from cockpit.engine.events import Event, MxReplaced
from cockpit.plan import DnsUpdateStep, Plan
from cockpit.plan.models import SecretRef
from cockpit.plan.secret_values import SecretError, SecretValue, read_secret
from cockpit.plan.values import MxRecord

UPDATE_TIMEOUT = 10.0
PROVIDER_TIMEOUT = 120.0
"""A provider's API: sign in, list, add what is missing, delete the rest, list again, with rate-limit waits."""

Say = Callable[[str], None]


def first_route(plan: Plan) -> DnsUpdateStep | None:
    """The plan's own way of changing the MX (its first dns_update step), or None when its MX changes are
    made by hand (confirm steps)."""
    return next((step for _, step in plan.steps() if isinstance(step, DnsUpdateStep)), None)


RecordsFor = Callable[[str], list[tuple[int, str]]]
"""Domain → the (preference, host) records to set for it."""


def mx_records(records: Sequence[MxRecord]) -> list[tuple[int, str]]:
    return [(DEFAULT_PREFERENCE if r.preference is None else r.preference, r.host) for r in records]


def state_records(plan: Plan, state: str) -> RecordsFor:
    """The records to set for each domain to put it in MX state `state` (per domain, as the plan says)."""
    return lambda domain: mx_records(plan.mx_records(state, domain))


async def editor_for(step: DnsUpdateStep, plan: Plan, base_dir: Path, say: Say | None = None) -> MxRrsetEditor:
    """The editor the step's route names: a provider's API, or the RFC 2136 primary with its TSIG key."""
    if step.provider is not None:
        return provider_editor(plan, step.provider, base_dir, say)
    assert step.server is not None and step.key is not None  # the model requires one route
    secret = plan.secrets.get(step.key)
    if secret is None:
        raise StepFailed(f"the plan has no secret '{step.key}' for the TSIG key")
    try:
        key = load_tsig_key(secret, base_dir)
        address = await primary_address(step.server.host)
    except (TsigKeyError, PrimaryAddressError) as exc:
        raise StepFailed(str(exc)) from None
    return Rfc2136Editor(address, step.server.port or 53, key=key, timeout=UPDATE_TIMEOUT, label=str(step.server))


def provider_editor(plan: Plan, name: str, base_dir: Path | None, say: Say | None = None) -> MxRrsetEditor:
    """A LexiconEditor for one of the plan's providers, its `{secret: NAME}` values read now (never shown)."""
    from cockpit.dns.lexicon_editor import LexiconEditor  # lexicon is slow to import: only when used

    provider = plan.providers[name]
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
        if say is not None:
            say(str(wait))

    try:
        return LexiconEditor(provider.lexicon, options, timeout=PROVIDER_TIMEOUT, on_wait=waiting)
    except MxChangeError as exc:
        raise StepFailed(f"provider {name}: {exc.message}") from None


async def replace_everywhere(
    editor: MxRrsetEditor,
    route: DnsUpdateStep,
    plan: Plan,
    records: RecordsFor,
    ttl: int,
    *,
    step_id: str,
    now: Callable[[], float],
    publish: Callable[[Event], None],
    say: Say,
    domains: Sequence[str] | None = None,
) -> list[MxChange]:
    """Replace the MX of each domain of the route (or `domains`) by `records(domain)`, journaling what each
    held before; stops at the first failure, saying which domains were already changed."""
    done: list[MxChange] = []
    for domain in domains or route.domains or plan.domains:
        try:
            change = await editor.replace_mx(route.zone or domain, records(domain), ttl, domain=domain)
        except MxChangeError as exc:
            already = f" (already changed: {', '.join(c.domain for c in done)})" if done else ""
            raise StepFailed(exc.message + already) from None
        publish(MxReplaced(now(), step_id, change.domain, change.zone, _pairs(change.before), _pairs(change.after),
                           change.ttl, change.via))  # fmt: skip
        say(change.message)
        done.append(change)
    return done


def _pairs(records: Sequence[ZoneMx]) -> tuple[tuple[int | None, str], ...]:
    return tuple((record.preference, record.host) for record in records)
