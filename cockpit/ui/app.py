"""The Textual app around one run: terminal set-up, theme, the crash policy, and the cockpit screen."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any, ClassVar

import rich
from rich.traceback import Traceback
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

from cockpit.engine.clock import Clock
from cockpit.engine.events import EventBus
from cockpit.engine.run import PlanRun
from cockpit.ui.cockpit_screen import CockpitScreen
from cockpit.ui.output_pane import OutputPane
from cockpit.ui.palette_commands import CockpitCommands
from cockpit.ui.passphrase_screen import passphrase_prompt
from cockpit.ui.step_list import StepList
from cockpit.ui.terminal_writer import install as install_terminal_writer

HANGUP_EXIT = 129


install_terminal_writer()


class CockpitApp(App[int]):
    """Runs the plan's run in a worker of its screen, asks SSH key passphrases in a dialog, and returns the
    run's exit code."""

    TITLE = "mx-cockpit"
    CSS_PATH = Path(__file__).with_name("cockpit.tcss")
    COMMANDS: ClassVar[set[Any]] = App.COMMANDS | {CockpitCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", show=False, id="app.quit", tooltip="Stop and leave (same as q)"),
    ]

    def __init__(
        self,
        run: PlanRun,
        bus: EventBus,
        clock: Clock,
        services: object,
        *,
        theme: str | None = None,
        warnings: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.warnings = warnings or []
        """Shown as notifications once the screen is up (e.g. running over SSH outside tmux)."""
        self.plan_run = run
        self.bus = bus
        self.clock = clock
        self.services = services
        self.exit_code_of_run = 1
        """What `run.run()` returned; 1 until it returns (a quit before the run ended is a stop)."""
        if hasattr(services, "passphrase"):
            services.passphrase = passphrase_prompt(self)  # an encrypted SSH key is unlocked on this screen
        if theme:
            self.theme = theme

    def on_ready(self) -> None:
        """Move what exists once the screen is up (widgets, plan, run) out of the garbage collector's sight.

        A flood of output makes many short-lived objects, which triggers full collections; with ~100,000
        long-lived objects to walk, each one froze the screen for ~50 ms, with them frozen for ~6 ms."""
        gc.freeze()

    def on_unmount(self) -> None:
        gc.unfreeze()

    def get_default_screen(self) -> Screen[Any]:
        return CockpitScreen(self)

    @property
    def cockpit(self) -> CockpitScreen:
        """The cockpit screen, wherever it sits under modals."""
        for screen in self.screen_stack:
            if isinstance(screen, CockpitScreen):
                return screen
        raise LookupError("the cockpit screen is not installed")

    def action_quit(self) -> None:  # type: ignore[override]
        """Quitting goes through the cockpit's own quit (it asks while a step runs)."""
        self.cockpit.action_quit()

    def hangup(self, exit_code: int = HANGUP_EXIT) -> None:
        """The terminal went away (SIGHUP) or we were told to stop: stop the run, leave with `exit_code`."""
        screen = self.cockpit
        if screen.finished is not None:
            self.exit(exit_code)
            return
        screen.stop_run("stopped", exit_code)

    def help_sections(self) -> list[tuple[str, list[tuple[str, Binding]]]]:
        """Every key, grouped as the operator meets them."""

        def rows(bindings: list[BindingType]) -> list[tuple[str, Binding]]:
            found = []
            for binding in bindings:
                if isinstance(binding, Binding):
                    keys = " ".join(self.get_key_display(Binding(key, "")) for key in binding.key.split(","))
                    found.append((binding.key_display or keys, binding))
            return found

        app_keys = [
            Binding(self.COMMAND_PALETTE_BINDING, "command_palette", "Palette", tooltip="Every action by name"),
            Binding("tab", "focus_next", "Next pane", tooltip="Move between the checklist, output and nameservers"),
            *self.BINDINGS,
        ]
        return [
            ("Run", rows(CockpitScreen.BINDINGS)),
            ("Checklist", rows(StepList.BINDINGS)),
            ("Output", [*rows(OutputPane.BINDINGS)]),
            ("Anywhere", rows(app_keys)),
        ]

    def _fatal_error(self) -> None:
        """Textual's crash screen prints local variables, where a secret may sit: print the traceback without."""
        self.bell()
        self.panic(Traceback(show_locals=False, width=None, suppress=[rich]))
