"""Asks why: a skip is journaled with the operator's reason, so it can never be given without one."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class ReasonScreen(ModalScreen[str | None]):
    """Dismisses with the reason, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="reason.cancel", tooltip="Do not skip"),
    ]

    DEFAULT_CSS = """
    ReasonScreen {
        align: center middle;
        #reason-box {
            width: 76; max-width: 100%; height: auto;
            border: thick $accent; background: $surface; padding: 0 1;
        }
        #reason-title { text-style: bold; }
        #reason-hint { color: $text-muted; }
    }
    """

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(id="reason-box"):
            yield Label(self.title_text, id="reason-title", markup=False)
            yield Input(placeholder="reason (journaled)", id="reason-input")
            yield Label("Enter skips with this reason · Esc cancels", id="reason-hint")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        reason = event.value.strip()
        if not reason:
            self.notify("a skip needs a reason", severity="warning")
            return
        self.dismiss(reason)

    def action_cancel(self) -> None:
        self.dismiss(None)
