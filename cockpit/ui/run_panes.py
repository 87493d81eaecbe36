"""The half of the cockpit screen that shows the run: its state (output buffer, event feed, downtime clock,
forecast, how the run ended) and the engine's events turned into the panes (steps, countdown, nameservers,
notices, the header clock), plus the run's worker ending. The operator's keys are in cockpit_screen.py;
`cockpit observe` adjusts this half (observer_screen.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

from textual import on
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from cockpit.base.safe_text import visible
from cockpit.engine.downtime import DowntimeClock
from cockpit.engine.events import (
    Asking,
    CountdownSet,
    CountdownTick,
    DnsFlip,
    DnsRound,
    Event,
    ForecastMade,
    ListenerProven,
    Notice,
    OutputLine,
    RunFinished,
    RunStarted,
    StepChanged,
    StepProgress,
)
from cockpit.engine.forecast import Forecast
from cockpit.engine.forecast_watch import forecast_from_record
from cockpit.engine.journal import event_record
from cockpit.engine.prompts import Prompt, PromptKind
from cockpit.engine.run import PlanRun
from cockpit.engine.states import StepState
from cockpit.mail.sender_retries import senders_view
from cockpit.ui.event_feed import EventFeed
from cockpit.ui.messages import DnsFlips, EngineEvent
from cockpit.ui.panes.checklist_pane import ChecklistPane
from cockpit.ui.panes.countdown_pane import CountdownPane
from cockpit.ui.panes.header_bar import HeaderBar, forecast_text, run_mode, run_phase
from cockpit.ui.panes.nameservers_pane import NameserversPane
from cockpit.ui.panes.ns_many import ManyPairsPane
from cockpit.ui.panes.output_buffer import OutputBuffer
from cockpit.ui.screencast import PhaseShots

FLIPS_AT_ONCE = 500
"""Flips the screen takes in one turn of its message queue."""
PROMPTING = (RunStarted, RunFinished, StepChanged, Asking, CountdownSet)
"""Events that may change the run's question or the keys that act now (the others never do: a burst of
thousands of DNS answers must not recompose the footer thousands of times)."""
END_OF_RUN = "end of run"
"""The output's section for what is said after the last step (the run's end, the demo's tally)."""
Severity = Literal["information", "warning", "error"]
NOTICE_SEVERITY: dict[str, Severity] = {"info": "information", "warning": "warning", "error": "error"}


class RunPanes(Screen[None]):
    """The run's state on screen and the engine's events onto the panes; leaves with `app.exit(code)`."""

    def __init__(self, run: PlanRun, *, warnings: list[str] | None = None, screenshots: Path | None = None) -> None:
        super().__init__()
        self.run = run
        self.shots = PhaseShots(screenshots) if screenshots is not None else None
        """SVGs of the screen at each phase and at the end (`cockpit demo --screenshots DIR`)."""
        self.warnings = warnings or []
        self.exit_code = 1
        """What `run.run()` returned; 1 until it returns (a quit before the run ended is a stop)."""
        self.buffer = OutputBuffer()
        self.feed = EventFeed(self.buffer, self.post_message)
        self.downtime = DowntimeClock()
        """The one definition of downtime (engine/downtime.py), fed with this run's events."""
        self.started_at: float | None = None
        self.forecast: Forecast | None = None
        """The downtime forecast as the run last published it (ForecastMade)."""
        self.finished: RunFinished | None = None
        self.quitting = False
        self._unsubscribe: Callable[[], None] | None = None

    def nameservers(self) -> NameserversPane | ManyPairsPane:
        """The nameservers pane: a row per pair, or counts and laggards for plans of many pairs."""
        pane = self.query_one("#nameservers")
        assert isinstance(pane, NameserversPane | ManyPairsPane)
        return pane

    def mode_label(self) -> str:
        """What the header says of how the run goes (`step mode`, `dry run · auto mode`)."""
        return run_mode(self.run)

    # ------------------------------------------------------------------ engine events

    def on_engine_event(self, message: EngineEvent) -> None:
        self.show_event(message)

    def show_event(self, message: EngineEvent) -> None:
        """One engine event onto the panes (a subclass adjusts this, not the handler: Textual calls every
        class's handler along the class chain)."""
        match message.event:
            case RunStarted() as event:
                self._run_started(event)
            case RunFinished() as event:
                self._run_finished(event)
            case StepChanged() as event:
                self._step_changed(event)
            case StepProgress() as event:
                self._step_progress(event)
            case Asking() as event:
                self._asking(event)
            case CountdownSet() as event:
                self.query_one(CountdownPane).announce(event)
            case CountdownTick() as event:
                self.query_one(CountdownPane).tick(event)
            case DnsFlip() as event:
                self._dns_flips([event])
            case DnsRound() as event:
                self._dns_round(event)
            case Notice() as event:
                self._notice(event)
            case ForecastMade() as event:
                self.forecast = forecast_from_record(event_record(event))
                self.query_one(ChecklistPane).set_forecast(self.forecast)
                self._tick()
            case ListenerProven() as event:
                self.downtime.feed(event_record(event))
                self._tick()
        if isinstance(message.event, PROMPTING):
            self.show_prompt()
            self.refresh_bindings()
        if self.shots is not None:
            self._screenshot_news(message.event)

    def _screenshot_news(self, event: Event) -> None:
        """A phase is entered when its first step starts (after any question about it was answered)."""
        assert self.shots is not None
        name = None
        if isinstance(event, RunFinished):
            name = self.shots.end()
        elif isinstance(event, StepChanged) and event.state.active and event.step_id in self.run.steps:
            name = self.shots.entered(self.run.steps[event.step_id].phase)
        if name is not None:
            self.call_after_refresh(self._save_screenshot, self.shots.folder, name, 20)

    def _save_screenshot(self, folder: Path, name: str, tries: int) -> None:
        """Textual exports the topmost screen: while a dialog is open, wait until it closes (a few seconds)."""
        if self.app.screen is not self and tries > 0:
            self.set_timer(0.25, lambda: self._save_screenshot(folder, name, tries - 1))
            return
        try:
            self.app.save_screenshot(filename=name, path=str(folder))
        except OSError as exc:
            self.notify(f"cannot save the screenshot {name} in {folder}: {exc.strerror}", severity="error")

    def show_prompt(self) -> None:
        """Mark the step the run asks about, with the keys that answer it."""
        prompt = self._open_prompt()
        self.query_one(ChecklistPane).ask((prompt.step_id, prompt.kind.value, prompt.question) if prompt else None)

    def _run_started(self, event: RunStarted) -> None:
        self.started_at = event.at
        self.downtime.feed(event_record(event))
        self.nameservers().set_states(event.mx_states)
        self._tick()

    def _run_finished(self, event: RunFinished) -> None:
        """The end is a line in the output, where it stays; a toast too only on a wide screen (at 80 columns
        a toast covers the output, where the end's figures are)."""
        self.finished = event
        self.add_class("-finished")
        text = f"run {event.outcome} (exit {event.exit_code}) — q leaves"
        stream = "info" if event.exit_code == 0 else "stderr"
        self.buffer.append(OutputLine(event.at, END_OF_RUN, "cockpit", stream, text))
        if self.has_class("-wide"):
            severity: Severity = "information" if event.exit_code == 0 else "warning"
            self.notify(text, title="Run finished", severity=severity)
        self._tick()

    def _step_changed(self, event: StepChanged) -> None:
        self.query_one(ChecklistPane).step_changed(event.step_id, event.state, event.attempt, event.detail)
        status = self.run.steps.get(event.step_id)
        if status is not None and status.step.kind == "countdown":
            if event.state == StepState.DONE:
                self.query_one(CountdownPane).finished(event.step_id, "done")
                self._alert(f"{event.step_id}: {event.detail}", title="Countdown over")
            elif event.state in (StepState.FAILED, StepState.SKIPPED):
                self.query_one(CountdownPane).finished(event.step_id, event.state.value)
        self._tick()

    def _step_progress(self, event: StepProgress) -> None:
        view = self.query_one(ChecklistPane).steps.get(event.step_id)
        if view is not None:
            self.query_one(ChecklistPane).step_changed(event.step_id, view.state, view.attempt, event.text)

    def _asking(self, event: Asking) -> None:
        if event.kind == PromptKind.FAILED:
            self._alert(f"{event.step_id}: {event.question}", title="Step failed", severity="error")
        elif event.kind == PromptKind.INTERRUPTED:
            self._toast(f"{event.step_id} was interrupted: r reruns, d marks done, s skips", severity="warning")

    def on_dns_flips(self, message: DnsFlips) -> None:
        """Flips come in bursts (a zone change flips every pair of it, thousands at hosting scale): the feed
        keeps them and this takes up to FLIPS_AT_ONCE per turn (then asks for another turn, so that keys are
        served between), with one header update per turn."""
        flips = self.feed.flips
        now, self.feed.flips = flips[:FLIPS_AT_ONCE], flips[FLIPS_AT_ONCE:]
        if self.feed.flips:
            self.post_message(DnsFlips())
        self._dns_flips(now)

    def on_many_pairs_pane_converged(self, message: ManyPairsPane.Converged) -> None:
        self._alert(message.news, title="Nameservers converged")

    def _dns_flips(self, flips: list[DnsFlip]) -> None:
        news = None
        for event in flips:
            news = self._dns_flip(event) or news
        if news is not None:
            self._alert(news, title="Nameservers converged")
        self._tick()

    def _dns_flip(self, event: DnsFlip) -> str | None:
        """One flip onto the downtime clock and the pane; returns the pane's convergence news."""
        self.downtime.feed(event_record(event))
        return self.nameservers().flip(event, self.run.clock.now())

    def _dns_round(self, event: DnsRound) -> None:
        news = self.nameservers().observe(event.snapshot, self.run.clock.now())
        if news is not None:
            self._alert(news, title="Nameservers converged")

    def _notice(self, event: Notice) -> None:
        """Every notice is a line in the output (where it stays readable); warnings and errors also toast."""
        stream = "stderr" if event.level in ("warning", "error") else "info"
        text = event.text if event.level == "info" else f"{event.level}: {event.text}"  # "· " marks info already
        step_id = self.run.current or (END_OF_RUN if self.finished is not None else "cockpit")
        self.buffer.append(OutputLine(event.at, step_id, "cockpit", stream, text))
        if event.level != "info" and self.has_class("-wide"):  # narrow: the line above is all (see _toast)
            self.notify(event.text, severity=NOTICE_SEVERITY.get(event.level, "warning"), timeout=8)

    def _alert(self, text: str, *, title: str, severity: Severity = "information") -> None:
        """A toast and the terminal bell: for what the operator must not miss while looking elsewhere."""
        self._toast(text, title=title, severity=severity, timeout=10)
        self.app.bell()

    def _toast(self, text: str, *, title: str = "", severity: Severity = "information", timeout: float = 8) -> None:
        """A toast on a wide screen; below 110 columns a toast would cover the output pane (and the nameservers
        under it), so there the news is a line in the output, where it also stays."""
        if self.has_class("-wide"):
            self.notify(text, title=title, severity=severity, timeout=timeout)
            return
        stream = "info" if severity == "information" else "stderr"
        step_id = self.run.current or (END_OF_RUN if self.finished is not None else "cockpit")
        said = f"{title.lower()}: {text}" if title else text
        self.buffer.append(OutputLine(self.run.clock.now(), step_id, "cockpit", stream, said))

    def _tick(self) -> None:
        now = self.run.clock.now()
        self.query_one(HeaderBar).show(
            name=visible(self.run.plan.name),
            phase=run_phase(self.run, self.finished),
            mode=self.mode_label(),
            elapsed=now - self.started_at if self.started_at is not None else 0.0,
            downtime=self.downtime.elapsed(now),
            downtime_over=self.downtime.over,
            forecast=forecast_text(self.forecast),
            ends=self.run.forecast.projected_end(now),
        )
        self.nameservers().tick(now)
        start = self.downtime.started
        parked = start is not None and not self.downtime.over
        self.query_one(CountdownPane).senders(senders_view(start, now).line(start) if parked and start else None)

    # ------------------------------------------------------------------ worker errors, in one place

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state == WorkerState.ERROR:
            error = worker.error
            text = f"{type(error).__name__}: {error}"
            if worker.group == "engine":
                current = self.run.current
                if current is not None:
                    self.query_one(ChecklistPane).step_changed(current, StepState.FAILED, 0, f"internal error: {text}")
                self.exit_code = 1
                self.finished = RunFinished(self.run.clock.now(), "failed", 1)
            self._alert(f"{worker.name}: {text}", title="Internal error", severity="error")
        elif event.state == WorkerState.SUCCESS and worker.group == "engine":
            self.exit_code = int(worker.result) if isinstance(worker.result, int) else 1
        if worker.group == "engine" and event.state in (WorkerState.SUCCESS, WorkerState.ERROR) and self.quitting:
            self.app.exit(self.exit_code)

    def _open_prompt(self) -> Prompt | None:
        prompt = self.run.prompt
        return prompt if prompt is not None and not prompt.answer.done() else None
