"""Asks an SSH key's passphrase on the screen: masked, never journaled or shown, dropped once handed over."""

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


class PassphraseScreen(ModalScreen[str | None]):
    """Dismisses with the passphrase, or None (Esc): the key is then skipped."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Skip this key", id="passphrase.cancel", tooltip="Do not use this key"),
    ]

    DEFAULT_CSS = """
    PassphraseScreen {
        align: center middle;
        #passphrase-box {
            width: 76; max-width: 100%; height: auto;
            border: thick $warning; background: $surface; padding: 0 1;
        }
        #passphrase-title { text-style: bold; }
        #passphrase-hint { color: $text-muted; }
    }
    """

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical(id="passphrase-box"):
            yield Label(self.what, id="passphrase-title", markup=False)
            yield Input(password=True, placeholder="passphrase (kept in memory only)", id="passphrase-input")
            yield Label("Enter unlocks the key · Esc skips it", id="passphrase-hint")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        value = event.value
        event.input.value = ""
        self.dismiss(value or None)

    def action_cancel(self) -> None:
        self.query_one(Input).value = ""
        self.dismiss(None)


def passphrase_prompt(app: App[int]) -> Callable[[str], Awaitable[str | None]]:
    """A `PassphrasePrompt` for the SSH layer that asks on `app`'s screen."""

    async def ask(what: str) -> str | None:
        answer: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()

        def answered(value: str | None) -> None:
            if not answer.done():
                answer.set_result(value)

        app.push_screen(PassphraseScreen(what), answered)
        return await answer

    return ask
