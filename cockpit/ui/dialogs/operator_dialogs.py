"""The wording of the cockpit's confirmations: what exactly will happen, where, and what it means."""

from __future__ import annotations

from textual.content import Content

from cockpit.engine.prompts import Prompt, PromptKind
from cockpit.engine.run import PlanRun
from cockpit.plan import Plan, StepBase
from cockpit.ui.panes.step_text import exact_action, manual_mx_change, shown_label, what_it_changes


def irreversible_question(plan: Plan, step: StepBase, step_id: str) -> tuple[str, Content]:
    """Title and body for a step that changes a server: the exact host and command, one per line."""
    lines = [
        Content.assemble((f"{key:>8}: ", "$text-muted"), (value, "bold")) for key, value in exact_action(plan, step)
    ]
    lines.append(Content(""))
    lines.append(Content.styled(what_it_changes(plan, step), "$text-warning"))
    return f"Run {step_id}: {shown_label(step)}", Content("\n").join(lines)


def manual_change_question(step: StepBase, step_id: str, change: list[tuple[str, str]]) -> tuple[str, Content]:
    """Title and body for a confirm step whose manual action is an MX change: the exact records to set."""
    lines = [Content.styled(shown_label(step), "bold"), Content("")]
    lines += [Content.assemble((f"{key:>8}: ", "$text-muted"), (value, "bold")) for key, value in change]
    lines += [Content(""), Content.styled("Done exactly so? The cockpit then watches every nameserver for it.",
                                          "$text-warning")]  # fmt: skip
    return f"Confirm {step_id}: the MX change made by hand", Content("\n").join(lines)


def abort_question(step: StepBase, step_id: str) -> tuple[str, Content]:
    consequence = (
        "It changes a server: the change may have partly happened."
        if step.side_effects
        else "It changes nothing on a server."
    )
    body = Content.assemble(
        f"{shown_label(step)}\n\nThe step fails with 'aborted by the operator' and can then be retried or skipped. ",
        (consequence, "$text-warning" if step.side_effects else ""),
    )
    return f"Abort the running step {step_id}?", body


def quit_question(step: StepBase, step_id: str) -> tuple[str, Content]:
    if step.side_effects:
        text = (f"Step {step_id} is changing a server. Quitting stops it now; its outcome may be unknown.\n"
                "The journal lets a later run resume, asking what to do with the interrupted step.")  # fmt: skip
    else:
        text = (f"Step {step_id} only waits or reads (it changes nothing): quitting stops the wait.\n"
                "A later run starts it again (a countdown keeps its deadline).")  # fmt: skip
    return "Quit while a step runs?", Content(text)


def confirmation_for(run: PlanRun, prompt: Prompt) -> tuple[str, Content] | None:
    """The dialog an answer goes through before it reaches the run, or None to answer at once: a step that
    changes a server shows exactly what runs where; a confirm step that stands for an MX change made by hand
    shows the exact records."""
    status = run.steps[prompt.step_id]
    if prompt.kind == PromptKind.CONFIRM:
        ids = [s.id for _, s in run.plan.steps()]
        change = manual_mx_change(run.plan, [s for _, s in run.plan.steps()], ids.index(prompt.step_id))
        return None if change is None else manual_change_question(status.step, prompt.step_id, change)
    if status.step.side_effects and not run.options.dry_run:
        return irreversible_question(run.plan, status.step, prompt.step_id)
    return None


def _mx_change_question(title: str, change: str, *notes: Content) -> tuple[str, Content]:
    """Title and body for a change of the MX: the change in bold, then what it means."""
    return title, Content("\n").join([Content.styled(change, "bold"), Content(""), *notes])


def park_question(change: str) -> tuple[str, Content]:
    """Title and body for parking the MX now (the P key)."""
    return _mx_change_question("Park the MX now?", change,
        Content("While the MX points at the refusing address, senders get a temporary failure and retry: no mail "
                "is lost. The run's own steps wait until every nameserver serves it."),
        Content.styled("Then fix what went wrong, and rerun the flip step (select it, Enter).", "$text-warning"),
    )  # fmt: skip


def undo_question(change: str) -> tuple[str, Content]:
    """Title and body for undoing a dns_update step (the u key)."""
    return _mx_change_question("Undo this MX change?", change,
        Content("Refused when it would point mail back at the old host after mail was copied to or accepted by the "
                "new one (the mailboxes would split): park instead (P)."),
    )  # fmt: skip


def rerun_question(run: PlanRun, step_id: str, proposed: str | None) -> tuple[str, Content]:
    """Title and body for running a done step again (Enter on it): what it does, and that the run's own next
    step is another one."""
    status = run.steps[step_id]
    if status.step.side_effects and not run.options.dry_run:
        _, body = irreversible_question(run.plan, status.step, step_id)
    else:
        body = Content(shown_label(status.step))
    later = f"\n\nThe run's next step stays {proposed}: select it to answer it." if proposed else ""
    return f"Rerun {step_id} ({status.state.value})?", Content.assemble(body, Content.styled(later, "$text-muted"))
