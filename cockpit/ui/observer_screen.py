"""The cockpit as an observer sees it (`cockpit observe`): the same four panes, fed by a journal another cockpit
writes (engine/observed_run.py), with only the keys that change nothing: poll DNS (the observer's own
queries), filter the output, help, screenshot, quit. The footer says "observing".

What the journal held before the observer opened is replayed without toasts or bells: those were the
operator's news; the observer's start with what happens from now on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Footer, Label

from cockpit.engine.events import DnsFlip, DnsRound, Event, RunStarted
from cockpit.engine.journal import event_record
from cockpit.engine.observed_run import OBSERVING, ObservedRun
from cockpit.ui.cockpit_screen import CockpitScreen
from cockpit.ui.messages import EngineEvent
from cockpit.ui.panes.checklist_pane import ChecklistPane
from cockpit.ui.panes.output_pane import output_keys
from cockpit.ui.panes.step_list import StepList
from cockpit.ui.run_panes import Severity

REPLAYED = 2.0
"""Events stamped this long before the observer opened are history: shown, never announced."""


class LiveDns(Message):
    """A flip or round of the observer's own DNS watcher (the nameservers pane only)."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event

    def can_replace(self, message: Message) -> bool:
        return isinstance(self.event, DnsRound) and isinstance(message, LiveDns) and isinstance(message.event, DnsRound)


class ObserverFooter(Footer):
    """The footer, with "observing" at its right end."""

    DEFAULT_CSS = """
    ObserverFooter > #observing { dock: right; padding: 0 1; background: $warning-muted; color: $text; }
    """

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield Label("observing · read-only", id="observing")


def _binding(key: str, action: str, description: str, tooltip: str, *, show: bool = True, display: str = "") -> Binding:
    return Binding(key, action, description, show=show, key_display=display or None, id=f"observer.{action}",
                   tooltip=tooltip)  # fmt: skip


class ObserverScreen(CockpitScreen, inherit_bindings=False):
    BINDINGS: ClassVar[list[BindingType]] = [
        _binding("g", "poll", "Poll DNS", "Ask every nameserver now (read-only queries of this observer)"),
        _binding("slash", "filter", "Filter", "Filter the output lines", display="/"),
        _binding("question_mark", "help", "Help", "Show every key", display="?"),
        _binding("ctrl+s", "screenshot", "Screenshot", "Save an SVG screenshot", show=False),
        _binding("q", "quit", "Quit", "Stop observing (the run goes on)"),
    ]

    run: ObservedRun

    def __init__(self, run: ObservedRun, *, warnings: list[str] | None = None) -> None:
        super().__init__(run, warnings=warnings)
        self.live_since = run.clock.now()
        self._replaying = False
        self._unsubscribe_live: Callable[[], None] | None = None

    def footer(self) -> Footer:
        return ObserverFooter()

    def mode_label(self) -> str:
        return "observing"

    def _start(self) -> None:
        super()._start()
        live = self.run.services.bus
        if live is not self.run.bus:
            self._unsubscribe_live = live.subscribe(self._live)

    def _live(self, event: Event) -> None:
        if isinstance(event, DnsRound | DnsFlip):
            self.post_message(LiveDns(event))

    def on_unmount(self) -> None:
        """(The cockpit screen's own on_unmount runs too: Textual calls each class's handler.)"""
        if self._unsubscribe_live is not None:
            self._unsubscribe_live()
            self._unsubscribe_live = None

    # ------------------------------------------------------------------ events

    def show_event(self, message: EngineEvent) -> None:
        self._replaying = message.event.at < self.live_since - REPLAYED
        try:
            super().show_event(message)
        finally:
            self._replaying = False

    def show_prompt(self) -> None:
        """No question is this observer's to answer: mark the step that waits for the operator."""
        self.query_one(ChecklistPane).waiting(self.run.waiting_step())

    def on_live_dns(self, message: LiveDns) -> None:
        now = self.run.clock.now()
        pane = self.nameservers()
        match message.event:
            case DnsRound() as event:
                news = pane.observe(event.snapshot, now)
            case DnsFlip() as event:
                news = pane.flip(event, now)
            case _:
                news = None
        if news is not None:
            self._alert(news, title="Nameservers converged")

    def _run_started(self, event: RunStarted) -> None:
        self.finished = None  # a later run (a resume) of the plan goes on from here
        super()._run_started(event)

    def _dns_flip(self, event: DnsFlip) -> str | None:
        """A flip the operator's cockpit saw: it times the downtime; the pane shows this observer's own."""
        self.downtime.feed(event_record(event))
        return None

    def notify(
        self, message: str, *, title: str = "", severity: Severity = "information", timeout: float | None = None,
        markup: bool = True,
    ) -> None:  # fmt: skip
        if self._replaying:
            return
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def _alert(self, text: str, *, title: str, severity: Severity = "information") -> None:
        if not self._replaying:
            super()._alert(text, title=title, severity=severity)

    def _toast(self, text: str, *, title: str = "", severity: Severity = "information", timeout: float = 8) -> None:
        if not self._replaying:
            super()._toast(text, title=title, severity=severity, timeout=timeout)

    # ------------------------------------------------------------------ keys

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "poll":
            return self.run.services.can_poll()
        return action in {"filter", "follow", "help", "screenshot", "quit"}

    def action_help(self) -> None:
        from cockpit.ui.dialogs.help_screen import HelpScreen, help_sections

        sections = [("Observer", self.BINDINGS), ("Checklist", StepList.BINDINGS), ("Output", output_keys())]
        self.app.push_screen(HelpScreen(help_sections(self.app, sections)))

    def _refuse(self) -> None:
        """An action that would change the run: refused with a warning (observing changes nothing)."""
        super().notify(OBSERVING, severity="warning")

    action_go = action_skip = action_retry = action_mark_done = action_abort = _refuse
    action_pause = action_extend = action_park = action_undo = _refuse

    def action_quit(self) -> None:
        self.stop_run("stopped observing", 0)

    def stop_run(self, outcome: str, exit_code: int) -> None:
        """Leave: only the following stops; the observed run goes on."""
        self.run.stop(outcome, exit_code)
        self.app.exit(exit_code)
