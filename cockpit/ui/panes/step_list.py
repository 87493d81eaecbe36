"""The steps of the plan grouped by phase, one row per step, rows updated in place as states change.

Enter is left to the screen (it answers the run's prompt), so this list declares its own movement keys
instead of inheriting OptionList's, which would swallow Enter as "select".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import events
from textual.binding import BindingType
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from cockpit.engine.states import StepState
from cockpit.ui.panes.navigation import navigation_bindings
from cockpit.ui.panes.step_text import step_line

PHASE_PREFIX = "phase:"


def _chosen(move: Callable[[OptionList], object]) -> Callable[[StepList], None]:
    """OptionList's movement action `move`, after which the selection is the operator's choice."""

    def action(self: StepList) -> None:
        move(self)
        self.chosen = True

    return action


class StepList(OptionList, inherit_bindings=False):
    """Phases as headings (not selectable), steps as options keyed by step id."""

    BINDINGS: ClassVar[list[BindingType]] = navigation_bindings(
        "checklist", "step", up="cursor_up", down="cursor_down", first="first", last="last", page_up="page_up",
        page_down="page_down",
    )  # fmt: skip

    DEFAULT_CSS = """
    StepList {
        border: none;
        padding: 0;
        background: $surface;
        & > .option-list--option-disabled { color: $text-secondary; text-style: bold; }
    }
    """

    def __init__(
        self,
        phases: list[tuple[str, list[tuple[str, str, StepState]]]],
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        options: list[Option] = []
        self._labels: dict[str, str] = {}
        self._states: dict[str, StepState] = {}
        for phase, steps in phases:
            options.append(Option(phase, id=PHASE_PREFIX + phase, disabled=True))
            for step_id, label, state in steps:
                self._labels[step_id] = label
                self._states[step_id] = state
                options.append(Option(step_line(state, label, proposed=False), id=step_id))
        super().__init__(*options, name=name, id=id, classes=classes, disabled=disabled)
        self.proposed: str | None = None
        self._followed: str | None = None
        self.chosen = False
        """True once the operator moved the selection (keys or mouse) since the list last moved it itself:
        only then does Enter on a settled step mean "run this one again"."""
        """The step the list last selected by itself (proposed, or started running): while the selection
        stays there, the list keeps following the run; once the operator moves it, it stays where they put it."""

    def on_resize(self) -> None:
        """The pane shrinks when the countdown appears: keep the selected step in view."""
        self.scroll_to_highlight()

    def set_state(self, step_id: str, state: StepState) -> None:
        """Repaint one step's row; nothing else moves."""
        if self._states.get(step_id) == state:
            return
        self._states[step_id] = state
        self._repaint(step_id)

    def propose(self, step_id: str | None) -> None:
        """Mark the step the run proposes next (and select it, so its details show)."""
        previous, self.proposed = self.proposed, step_id
        if previous is not None and previous != step_id:
            self._repaint(previous)
        if step_id is not None:
            self._repaint(step_id)
            if previous != step_id:
                self.select_step(step_id)
                self._followed = step_id

    def follow(self, step_id: str) -> None:
        """A step started running: select it, unless the operator moved the selection elsewhere."""
        if self.selected_step in (None, self._followed, self.proposed):
            self.select_step(step_id)
            self._followed = step_id

    def set_phase_note(self, phase: str, note: str) -> None:
        """A note after a phase's heading (the downtime forecast on the phase where the downtime starts)."""
        option_id = PHASE_PREFIX + phase
        if any(option.id == option_id for option in self.options):
            self.replace_option_prompt(option_id, f"{phase} · {note}" if note else phase)

    def select_step(self, step_id: str) -> None:
        self.highlighted = self.get_option_index(step_id)
        self.chosen = False

    action_cursor_up = _chosen(OptionList.action_cursor_up)
    action_cursor_down = _chosen(OptionList.action_cursor_down)
    action_first = _chosen(OptionList.action_first)
    action_last = _chosen(OptionList.action_last)
    action_page_up = _chosen(OptionList.action_page_up)
    action_page_down = _chosen(OptionList.action_page_down)

    async def _on_click(self, event: events.Click) -> None:
        """Textual calls OptionList's own click handler after this one (handlers run along the class chain)."""
        self.chosen = True

    @property
    def selected_step(self) -> str | None:
        option = self.highlighted_option
        return None if option is None or option.id is None or option.disabled else option.id

    def _repaint(self, step_id: str) -> None:
        if step_id in self._labels:
            line = step_line(self._states[step_id], self._labels[step_id], proposed=step_id == self.proposed)
            self.replace_option_prompt(step_id, line)
