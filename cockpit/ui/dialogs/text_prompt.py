"""One line of text asked in a modal: the reason for a skip (journaled; never empty), or an SSH key's passphrase
(masked, never journaled or shown, cleared from the widget once handed over)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class TextPromptScreen(ModalScreen[str | None]):
    """Dismisses with the text, or None on Esc."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="prompt.cancel", tooltip="Leave without an answer"),
    ]

    DEFAULT_CSS = """
    TextPromptScreen {
        align: center middle;
        #prompt-box {
            width: 76; max-width: 100%; height: auto;
            border: thick $accent; background: $surface; padding: 0 1;
        }
        &.-secret #prompt-box { border: thick $warning; }
        #prompt-title { text-style: bold; }
        #prompt-hint { color: $text-muted; }
    }
    """

    def __init__(self, title: str, *, placeholder: str, hint: str, secret: bool = False,
                 required: str | None = None) -> None:  # fmt: skip
        """`secret` masks the input; `required` is what to say when Enter is pressed on nothing (else an empty
        answer dismisses as None)."""
        super().__init__(classes="-secret" if secret else None)
        self.what = title
        self.placeholder = placeholder
        self.hint = hint
        self.secret = secret
        self.required = required

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-box"):
            yield Label(self.what, id="prompt-title", markup=False)
            yield Input(password=self.secret, placeholder=self.placeholder, id="prompt-input")
            yield Label(self.hint, id="prompt-hint")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        value = event.value if self.secret else event.value.strip()
        if not value and self.required is not None:
            self.notify(self.required, severity="warning")
            return
        event.input.value = ""
        self.dismiss(value or None)

    def action_cancel(self) -> None:
        self.query_one(Input).value = ""
        self.dismiss(None)


def reason_prompt(step_id: str) -> TextPromptScreen:
    hint = "Enter skips with this reason · Esc cancels"
    return TextPromptScreen(f"Skip {step_id}: why?", placeholder="reason (journaled)", hint=hint,
                            required="a skip needs a reason")  # fmt: skip


def passphrase_screen(what: str) -> TextPromptScreen:
    return TextPromptScreen(what, placeholder="passphrase (kept in memory only)",
                            hint="Enter unlocks the key · Esc skips it", secret=True)  # fmt: skip


def passphrase_prompt(app: App[int]) -> Callable[[str], Awaitable[str | None]]:
    """A `PassphrasePrompt` for the SSH layer that asks on `app`'s screen."""

    async def ask(what: str) -> str | None:
        answer: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()

        def answered(value: str | None) -> None:
            if not answer.done():
                answer.set_result(value)

        app.push_screen(passphrase_screen(what), answered)
        return await answer

    return ask
