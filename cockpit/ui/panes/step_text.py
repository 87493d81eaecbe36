"""How a step and its state read on screen: icons, theme colours, and the exact host and command it touches.

Kept apart from the widgets so the checklist, the confirmation modal and the help text say the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content

from cockpit.base.safe_text import visible
from cockpit.base.units import format_duration
from cockpit.engine.states import StepState
from cockpit.plan import (
    CanaryStep,
    DnsUpdateStep,
    DrainStep,
    InventoryStep,
    Plan,
    PortStep,
    SshStep,
    StepBase,
    SyncStep,
    TransferStep,
    VerifyStep,
    WaitDnsStep,
)
from cockpit.plan.mx_summary import describe_state, domains_text

ICONS: dict[StepState, tuple[str, str]] = {
    StepState.PENDING: ("○", "$text-muted"),
    StepState.READY: ("▶", "bold $accent"),
    StepState.RUNNING: ("●", "bold $primary"),
    StepState.AWAITING_CONFIRMATION: ("?", "bold $accent"),
    StepState.WAITING_DNS: ("◔", "$primary"),
    StepState.COUNTING_DOWN: ("◷", "$primary"),
    StepState.DONE: ("✓", "$success"),
    StepState.FAILED: ("✗", "bold $error"),
    StepState.SKIPPED: ("-", "$text-muted"),
    StepState.INTERRUPTED: ("!", "bold $warning"),
}
"""One single-width glyph and one theme style per state (no emoji: their width differs between terminals)."""

STATE_WORDS: dict[StepState, str] = {
    StepState.PENDING: "pending",
    StepState.READY: "ready",
    StepState.RUNNING: "running",
    StepState.AWAITING_CONFIRMATION: "awaiting confirmation",
    StepState.WAITING_DNS: "waiting for DNS",
    StepState.COUNTING_DOWN: "counting down",
    StepState.DONE: "done",
    StepState.FAILED: "failed",
    StepState.SKIPPED: "skipped",
    StepState.INTERRUPTED: "interrupted",
}


def state_icon(state: StepState) -> Content:
    """The state's glyph in its colour."""
    glyph, style = ICONS[state]
    return Content.styled(glyph, style)


def step_line(state: StepState, label: str, *, proposed: bool) -> Content:
    """One checklist row: icon, label; the step the run proposes next is bold and pointed at."""
    marker = Content.styled("»", "bold $accent") if proposed else Content(" ")
    text = Content.styled(label, "bold") if proposed or state.active else Content(label)
    if state in (StepState.DONE, StepState.SKIPPED):
        text = Content.styled(label, "$text-muted")
    return Content.assemble(marker, state_icon(state), " ", text)


def host_address(plan: Plan, name: str) -> str:
    """`user@address:port (name)`, the way the operator would type it into ssh."""
    host = plan.hosts.get(name)
    if host is None:
        return name
    where = host.address or (f"ssh_config alias {host.ssh_config}" if host.ssh_config else name)
    user = f"{host.user}@" if host.user else ""
    port = f":{host.port}" if host.port is not None else ""
    return f"{user}{where}{port} ({name})"


def shown_label(step: StepBase) -> str:
    """The step's label as the screen shows it: plan text, so never a terminal control sequence."""
    return visible(step.label)


def exact_action(plan: Plan, step: StepBase) -> list[tuple[str, str]]:
    """(field, value) pairs naming exactly where a step acts and what it runs, for details and confirmations."""
    return [(key, visible(value)) for key, value in _exact_action(plan, step)]


def _exact_action(plan: Plan, step: StepBase) -> list[tuple[str, str]]:
    if isinstance(step, SshStep):
        return [("host", host_address(plan, step.host)), ("command", step.run)] + (
            [("pty", "yes (stderr merged into stdout)")] if step.pty else []
        )
    if isinstance(step, TransferStep):
        return [
            ("from", f"{host_address(plan, step.source.host)} {step.source.path}"),
            ("to", f"{host_address(plan, step.dest.host)} {step.dest.path}"),
        ]
    if isinstance(step, DnsUpdateStep):
        records = describe_state(plan, step.mx) if step.mx in plan.mx else ""
        ttl = step.ttl if step.ttl is not None else plan.ttl
        route = [("server", str(step.server)), ("key", str(step.key))] if step.provider is None else [
            ("provider", f"{step.provider} ({plan.providers[step.provider].lexicon} API)")
        ]  # fmt: skip
        return [
            route[0],
            ("zone", step.zone or domains_text(step.domains or plan.domains)),
            ("MX", f"{step.mx}: {records}" + (f" (TTL {ttl})" if ttl is not None else "")),
            *route[1:],
        ]
    if isinstance(step, PortStep):
        return [("check", f"{step.address} port {step.port} must be {step.expect}")]
    if isinstance(step, InventoryStep):
        return [("store", _store(plan, step.store)), ("changes", "nothing (reads only)")]
    if isinstance(step, SyncStep | VerifyStep):
        rows = [("from", _store(plan, step.source)), ("to", _store(plan, step.dest))]
        if isinstance(step, SyncStep):
            rows.append(("copies", "what the destination lacks, by identity (never a second copy)"))
        return rows
    if isinstance(step, CanaryStep):
        where = f"from {host_address(plan, step.via)}" if step.via else "from this machine"
        rows = [("probe", f"SMTP port {step.port} of every address of the MX now served, {where}")]
        if step.expect == "delivered" and step.store is not None:
            to = step.to or ""
            sends = f"one message to {to}"
            if step.per_domain:
                each = [to.replace("{domain}", domain) for domain in plan.domains[:3]]
                more = f", … ({len(plan.domains):,} in all)" if len(plan.domains) > 3 else ""
                sends = f"one message per domain: to {', '.join(each)}{more}"
            rows += [("sends", sends), ("finds it", _store(plan, step.store))]
        return rows
    if isinstance(step, DrainStep):
        rows = [("watches", _store(plan, step.store)), ("quiet for", format_duration(step.quiet))]
        return rows + ([("queue", step.queue)] if step.queue else [])
    return []


def what_it_changes(plan: Plan, step: StepBase) -> str:
    """What running the step changes, in one sentence, for its confirmation."""
    if isinstance(step, SshStep):
        return f"This runs the command on {step.host}: what it changes there is up to the command."
    if isinstance(step, TransferStep):
        return f"This writes {step.dest.path} on {step.dest.host} (a file of that name is replaced)."
    if isinstance(step, DnsUpdateStep):
        domains = domains_text(step.domains or plan.domains)
        return (f"This replaces the MX of {domains} at {step.where}: senders follow it as their caches expire "
                "(the previous records are in the output, for going back).")  # fmt: skip
    if isinstance(step, SyncStep):
        return f"This adds to {step.dest} the messages it lacks; it never removes or changes a message there."
    return "This changes a server."


def manual_mx_change(plan: Plan, steps: Sequence[StepBase], index: int) -> list[tuple[str, str]] | None:
    """When the confirm step at `index` stands for an MX change made by hand (the next step waits for an MX
    state), the exact change: domains, records and TTL. None for any other manual action."""
    following = steps[index + 1] if index + 1 < len(steps) else None
    if not isinstance(following, WaitDnsStep) or following.mx is None:
        return None
    records = describe_state(plan, following.mx) if following.mx in plan.mx else ""
    change = [("domains", domains_text(plan.domains)), ("MX", f"{records} ({following.mx})")]
    if plan.ttl is not None:
        change.append(("TTL", f"{plan.ttl} s"))
    return change


def _store(plan: Plan, name: str) -> str:
    store = plan.stores.get(name)
    if store is None:
        return name
    return f"{name}: {store.format} {host_address(plan, store.host)} {store.path}"
