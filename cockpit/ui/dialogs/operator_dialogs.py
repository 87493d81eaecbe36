"""The wording of the cockpit's confirmations: what exactly will happen, where, and what it means."""

from __future__ import annotations

from textual.content import Content

from cockpit.plan import Plan, StepBase
from cockpit.ui.panes.step_text import exact_action, shown_label


def irreversible_question(plan: Plan, step: StepBase, step_id: str) -> tuple[str, Content]:
    """Title and body for a step that changes a server: the exact host and command, one per line."""
    lines = [
        Content.assemble((f"{key:>8}: ", "$text-muted"), (value, "bold")) for key, value in exact_action(plan, step)
    ]
    lines.append(Content(""))
    lines.append(Content.styled("This changes a server and cannot be taken back.", "$text-warning"))
    return f"Run {step_id}: {shown_label(step)}", Content("\n").join(lines)


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


def quit_question(step_id: str) -> tuple[str, Content]:
    body = Content(
        f"Step {step_id} is running. Quitting stops it now; its outcome may be unknown.\n"
        "The journal lets a later run resume, asking what to do with an interrupted step."
    )
    return "Quit while a step runs?", body
