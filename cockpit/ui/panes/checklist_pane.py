"""The checklist pane: the step list and, under it, the selected step's details and what the run asks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Unpack

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from cockpit.base.units import format_duration
from cockpit.engine.forecast import Forecast
from cockpit.engine.states import StepState
from cockpit.plan import Plan, StepBase
from cockpit.ui.panes.step_list import StepList
from cockpit.ui.panes.step_text import STATE_WORDS, exact_action, shown_label, state_icon
from cockpit.ui.panes.widget_options import WidgetOptions

ANSWER_KEYS = {
    "gate": "Enter runs it · s skips",
    "confirm": "Enter confirms · s skips",
    "failed": "Enter or r retries · s skips",
    "interrupted": "r reruns · d marks done · s skips",
}


@dataclass
class StepView:
    """What the pane knows of a step: the plan's step and the latest state the run published."""

    step: StepBase
    phase: str
    state: StepState
    attempt: int
    detail: str


class ChecklistPane(Vertical):
    """Steps by phase with state icons; the proposed step is pointed at and its question shown."""

    DEFAULT_CSS = """
    ChecklistPane {
        StepList { height: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
        #step-detail {
            height: auto; max-height: 8; padding: 0 1; background: $boost;
            text-wrap: nowrap; text-overflow: ellipsis;
        }
    }
    """

    def __init__(
        self,
        plan: Plan,
        steps: dict[str, StepView],
        **options: Unpack[WidgetOptions],
    ) -> None:
        super().__init__(**options)
        self.plan = plan
        self.steps = steps
        self.asking: tuple[str, str, str] | None = None
        """(step id, prompt kind, question) while the run waits for the operator."""
        self.border_title = "Checklist"
        self._lines: dict[str, int] = {}
        """How many lines each step's details take; the details area is as tall as the tallest."""
        self._detail_height = -1
        self.forecast: Forecast | None = None
        """The downtime forecast, shown on the heading of the phase where the downtime starts and in the
        details of each step it counts."""

    def compose(self) -> ComposeResult:
        phases: dict[str, list[tuple[str, str, StepState]]] = {}
        for step_id, view in self.steps.items():
            phases.setdefault(view.phase, []).append((step_id, shown_label(view.step), view.state))
        yield StepList(list(phases.items()), id="step-list")
        yield Static(id="step-detail", markup=False)

    def on_mount(self) -> None:
        for step_id in self.steps:
            self._measure(step_id)
        # Watched rather than told by OptionHighlighted: the details then change in the same frame as the
        # selection, instead of one message (and one frame) later.
        self.watch(self.step_list, "highlighted", self._show_detail)

    @property
    def step_list(self) -> StepList:
        return self.query_one(StepList)

    def step_changed(self, step_id: str, state: StepState, attempt: int, detail: str) -> None:
        view = self.steps.get(step_id)
        if view is None:
            return
        view.state, view.attempt, view.detail = state, attempt, detail
        self.step_list.set_state(step_id, state)
        if state.active:
            self.step_list.follow(step_id)
        self._measure(step_id)
        self._show_detail()

    def set_forecast(self, forecast: Forecast) -> None:
        self.forecast = forecast
        first = forecast.parts[0].step_id if forecast.parts else None
        if first in self.steps:
            phase = self.steps[first].phase
            note = f"downtime forecast {format_duration(forecast.total)}" + ("+?" if forecast.unknown else "")
            self.step_list.set_phase_note(phase, note)
        for part in forecast.parts:
            if part.step_id in self.steps:
                self._measure(part.step_id)
        self._show_detail()

    def ask(self, asking: tuple[str, str, str] | None) -> None:
        """The run's open question (or None once answered)."""
        previous, self.asking = self.asking, asking
        for step_id in {previous[0] if previous else "", asking[0] if asking else ""} & self.steps.keys():
            self._measure(step_id)
        self.step_list.propose(asking[0] if asking else None)
        self._show_detail()

    def waiting(self, step_id: str | None) -> None:
        """Mark the step that waits for the operator, without answer keys (an observer has none)."""
        if self.asking is not None:
            self.ask(None)
        if self.step_list.proposed != step_id:
            self.step_list.propose(step_id)
            self._show_detail()

    def on_resize(self) -> None:
        """Titles wrap to the new width in the details: measure every step again."""
        for step_id in self.steps:
            self._measure(step_id)
        self._show_detail()

    @property
    def _detail_width(self) -> int:
        return self.query_one("#step-detail", Static).content_size.width

    def _measure(self, step_id: str) -> None:
        self._lines[step_id] = len(self.describe(step_id, self._detail_width).split("\n"))

    def _show_detail(self) -> None:
        """Show the selected step's details. Moving the selection never changes the area's height (lines never
        wrap there): the layout stays still, and a keypress costs no layout pass."""
        step_id = self.step_list.selected_step
        width = self._detail_width
        content = self.describe(step_id, width) if step_id is not None and step_id in self.steps else Content()
        detail = self.query_one("#step-detail", Static)
        height = max(self._lines.values(), default=0)
        if height != self._detail_height:
            self._detail_height = height
            detail.styles.height = height
        detail.update(content, layout=False)

    def describe(self, step_id: str, width: int = 0) -> Content:
        """State, the whole title (the checklist row cuts a long one; wrapped here to `width` when given),
        what the step is doing or did, the keys that answer it, exactly what it touches, and its limits."""
        view = self.steps[step_id]
        step = view.step
        attempt = f" · attempt {view.attempt}" if view.attempt > 1 else ""
        lines = [
            Content.assemble(
                state_icon(view.state),
                " ",
                (STATE_WORDS[view.state], "bold"),
                f"{attempt} · {step.kind} · {step_id}",
            )
        ]
        title = Content.styled(shown_label(step), "bold")
        lines.extend(title.wrap(width) if width > 0 else [title])
        if view.detail and view.detail != shown_label(step):  # a confirm step's question is its title
            lines.append(Content.assemble(("result: " if view.state.settled else "now: ", "$text-muted"), view.detail))
        if self.asking is not None and self.asking[0] == step_id:
            lines.append(Content.styled(ANSWER_KEYS.get(self.asking[1], ""), "bold $accent"))
        for key, value in exact_action(self.plan, step):
            lines.append(Content.assemble((f"{key}: ", "$text-muted"), value))
        limits = []
        if step.timeout is not None:
            limits.append(f"timeout {format_duration(step.timeout)}")
        if step.retries:
            limits.append(f"{step.retries} automatic retries")
        if limits:
            lines.append(Content.styled(" · ".join(limits), "$text-muted"))
        part = self.forecast.part(step_id) if self.forecast is not None else None
        if part is not None:
            estimate = "no estimate" if part.seconds is None else format_duration(part.seconds)
            lines.append(Content.assemble(("forecast: ", "$text-muted"), f"{part.what} {estimate} — {part.basis}"))
        return Content("\n").join(lines)
