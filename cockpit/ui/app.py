"""The Textual app around one run: terminal set-up, theme, the crash policy, the command palette, and the
cockpit screen (which owns the run's worker and the panes)."""

from __future__ import annotations

import gc
import signal
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import rich
from rich.traceback import Traceback
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from cockpit.engine.exit_codes import SIGNAL_EXITS
from cockpit.engine.observed_run import ObservedRun
from cockpit.engine.run import PlanRun
from cockpit.ui.cockpit_screen import CockpitScreen
from cockpit.ui.dialogs.text_prompt import passphrase_prompt
from cockpit.ui.observer_screen import ObserverScreen
from cockpit.ui.terminal_writer import install as install_terminal_writer

install_terminal_writer()


class CockpitApp(App[int]):
    """Runs the plan's run on the cockpit screen, asks SSH key passphrases in a dialog, and returns the run's
    exit code."""

    TITLE = "mx-cockpit"
    CSS_PATH = Path(__file__).with_name("cockpit.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", show=False, id="app.quit", tooltip="Stop and leave (same as q)"),
    ]

    def __init__(
        self, run: PlanRun, *, theme: str | None = None, warnings: list[str] | None = None,
        screenshots: Path | None = None,
    ) -> None:  # fmt: skip
        super().__init__()
        self.run_of_plan = run
        self.screenshots = screenshots
        self.warnings = warnings or []
        """Shown as notifications once the screen is up (e.g. running over SSH outside tmux)."""
        run.services.passphrase = passphrase_prompt(self)  # an encrypted SSH key is unlocked on this screen
        if theme:
            self.theme = theme

    def on_ready(self) -> None:
        """Move what exists once the screen is up (widgets, plan, run) out of the garbage collector's sight:
        a flood of output makes many short-lived objects, and each full collection walked all of these
        (bench/README.md, UI latency, has the figures)."""
        gc.freeze()

    def on_unmount(self) -> None:
        gc.unfreeze()

    def get_default_screen(self) -> Screen[Any]:
        if isinstance(self.run_of_plan, ObservedRun):
            return ObserverScreen(self.run_of_plan, warnings=self.warnings)
        return CockpitScreen(self.run_of_plan, warnings=self.warnings, screenshots=self.screenshots)

    @property
    def cockpit_screen(self) -> CockpitScreen:
        """The cockpit screen, wherever it sits under modals."""
        for screen in self.screen_stack:
            if isinstance(screen, CockpitScreen):
                return screen
        raise LookupError("the cockpit screen is not installed")

    @property
    def exit_code_of_run(self) -> int:
        return self.cockpit_screen.exit_code

    def action_quit(self) -> None:  # type: ignore[override]
        """Quitting goes through the cockpit's own quit (it asks while a step runs)."""
        self.cockpit_screen.action_quit()

    def hangup(self, exit_code: int = SIGNAL_EXITS[signal.SIGHUP]) -> None:
        """The terminal went away (SIGHUP) or we were told to stop: stop the run, leave with `exit_code`."""
        screen = self.cockpit_screen
        if screen.finished is not None:
            self.exit(exit_code)
            return
        screen.stop_run("stopped", exit_code)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The palette offers every action a key offers now, under the footer's and the help's names."""
        yield from super().get_system_commands(screen)
        seen: set[str] = set()
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if not active.enabled or not binding.description or binding.action in seen:
                continue
            seen.add(binding.action)
            shown = binding.key_display or self.get_key_display(Binding(key, ""))
            yield SystemCommand(binding.description, f"{binding.tooltip} ({shown})",
                                partial(self.run_action, binding.action, active.node))  # fmt: skip

    def _fatal_error(self) -> None:
        """Textual's crash screen prints local variables, where a secret may sit: print the traceback without."""
        self.bell()
        self.panic(Traceback(show_locals=False, width=None, suppress=[rich]))
