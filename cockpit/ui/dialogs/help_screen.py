"""`?`: every key of the cockpit with what it does, built from the same Binding objects the footer and the
command palette use, so the help can never disagree with the keys."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class HelpScreen(ModalScreen[None]):
    """A scrollable list of (keys, what, when) rows."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close", id="help.close", tooltip="Close the help"),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
        #help-box {
            width: 90; max-width: 100%; height: auto; max-height: 100%;
            border: thick $primary; background: $surface; padding: 0 1;
        }
        #help-title { text-style: bold; }
        #help-keys { height: auto; max-height: 100%; }
        #help-text { text-wrap: nowrap; text-overflow: ellipsis; }
        #help-hint { color: $text-muted; }
    }
    """

    def __init__(self, sections: list[tuple[str, list[tuple[str, Binding]]]]) -> None:
        """`sections`: (heading, [(key display, binding)])."""
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Label("Keys of the cockpit", id="help-title")
            with VerticalScroll(id="help-keys"):
                yield Static(self.table(), id="help-text")
            yield Label("Esc or ? closes · every action is also in the command palette (ctrl+p)", id="help-hint")

    def table(self) -> Content:
        lines: list[Content] = []
        for heading, rows in self.sections:
            lines.append(Content.styled(heading, "bold $text-accent"))
            for keys, binding in rows:
                lines.append(
                    Content.assemble(
                        (f"  {keys:<9}", "bold"),
                        (f"{binding.description:<13} ", ""),
                        (binding.tooltip, "$text-muted"),
                    )
                )
        return Content("\n").join(lines)

    def action_close(self) -> None:
        self.dismiss(None)


Sections = list[tuple[str, list[tuple[str, Binding]]]]


def help_sections(app: App[Any], groups: Sequence[tuple[str, Sequence[BindingType]]]) -> Sections:
    """Every key, grouped as the operator meets them, with those that work anywhere last."""

    def rows(bindings: Sequence[BindingType]) -> list[tuple[str, Binding]]:
        found = []
        for binding in bindings:
            if isinstance(binding, Binding):
                keys = " ".join(app.get_key_display(Binding(key, "")) for key in binding.key.split(","))
                found.append((binding.key_display or keys, binding))
        return found

    anywhere = [
        Binding(app.COMMAND_PALETTE_BINDING, "command_palette", "Palette", tooltip="Every action by name"),
        Binding("tab", "focus_next", "Next pane", tooltip="Move between the checklist, output and nameservers"),
        *app.BINDINGS,
    ]
    return [*((heading, rows(bindings)) for heading, bindings in groups), ("Anywhere", rows(anywhere))]
