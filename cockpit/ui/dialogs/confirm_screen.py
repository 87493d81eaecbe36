"""A yes/no question in a modal: Enter (or y) says yes, Escape (or n) says no.

Used before anything that cannot be taken back: an irreversible step, aborting a running step, quitting
while a step runs. It shows exactly what will happen (host, command) rather than a generic "are you sure".
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class ConfirmScreen(ModalScreen[bool]):
    """Dismisses with True (confirmed) or False."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,y", "answer(True)", "Yes", id="confirm.yes", tooltip="Confirm", priority=True),
        Binding("escape,n", "answer(False)", "No", id="confirm.no", tooltip="Cancel", priority=True),
    ]

    DEFAULT_CSS = """
    ConfirmScreen {
        align: center middle;
        #confirm-box {
            width: 76; max-width: 100%; height: auto; max-height: 100%;
            border: thick $warning; background: $surface; padding: 0 1;
        }
        #confirm-title { text-style: bold; width: 1fr; }
        #confirm-body { margin: 1 0; }
        #confirm-keys { height: 1; }
        #confirm-keys Label { margin-right: 2; color: $text-accent; text-style: bold; }
    }
    """

    def __init__(self, title: str, body: Content, *, yes: str = "Enter: yes", no: str = "Esc: no") -> None:
        super().__init__()
        self.title_text = title
        self.body = body
        self.yes = yes
        self.no = no

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Label(self.title_text, id="confirm-title", markup=False)
            yield Static(self.body, id="confirm-body")
            with Horizontal(id="confirm-keys"):
                yield Label(self.yes, markup=False)
                yield Label(self.no, markup=False)

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
