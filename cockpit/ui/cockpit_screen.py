"""The cockpit: four panes fed by the engine's events, and the operator's keys, which call the run's
command API. Every action exists as a binding (footer, `?`) and in the command palette."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar, Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer
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
from cockpit.engine.prompts import Answer, CommandResult, Prompt, PromptKind, resolve
from cockpit.engine.run import PlanRun
from cockpit.engine.states import StepState
from cockpit.mail.sender_retries import senders_view
from cockpit.ui.dialogs.confirm_screen import ConfirmScreen
from cockpit.ui.dialogs.help_screen import HelpScreen, help_sections
from cockpit.ui.dialogs.operator_dialogs import abort_question, confirmation_for, quit_question
from cockpit.ui.dialogs.text_prompt import reason_prompt
from cockpit.ui.event_feed import EventFeed
from cockpit.ui.messages import DnsFlips, EngineEvent
from cockpit.ui.panes.checklist_pane import ChecklistPane, StepView
from cockpit.ui.panes.countdown_pane import CountdownPane
from cockpit.ui.panes.header_bar import HeaderBar, forecast_text, run_mode, run_phase
from cockpit.ui.panes.nameservers_pane import NameserversPane
from cockpit.ui.panes.ns_many import ManyPairsPane, many_pairs
from cockpit.ui.panes.output_buffer import OutputBuffer
from cockpit.ui.panes.output_pane import OutputPane
from cockpit.ui.panes.step_list import StepList
from cockpit.ui.retreat_keys import ask_park, ask_rerun, ask_undo, can_rerun, has_parking
from cockpit.ui.screencast import PhaseShots

EXTEND_BY = 60.0
FLIPS_AT_ONCE = 500
"""Flips the screen takes in one turn of its message queue."""
PROMPTING = (RunStarted, RunFinished, StepChanged, Asking, CountdownSet)
"""Events that may change the run's question or the keys that act now (the others never do: a burst of
thousands of DNS answers must not recompose the footer thousands of times)."""
Severity = Literal["information", "warning", "error"]
NOTICE_SEVERITY: dict[str, Severity] = {"info": "information", "warning": "warning", "error": "error"}


def _binding(key: str, action: str, description: str, tooltip: str, *, show: bool = True, display: str = "") -> Binding:
    return Binding(key, action, description, show=show, key_display=display or None, id=f"cockpit.{action}",
                   tooltip=tooltip)  # fmt: skip


class CockpitScreen(Screen[None]):
    """Owns the panes and the run's worker; the app only sets up the terminal. Leaves with `app.exit(code)`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        _binding("enter", "go", "Go", "Confirm, run or retry; rerun a selected done step"),
        _binding("s", "skip", "Skip", "Skip the proposed step (asks a reason)"),
        _binding("r", "retry", "Retry", "Retry a failed step, or rerun an interrupted one"),
        _binding("d", "mark_done", "Mark done", "Mark an interrupted step as done"),
        _binding("x", "abort", "Abort", "Stop the running step (asks first)"),
        _binding("p", "pause", "Pause", "Pause or resume the countdown"),
        _binding("plus", "extend", "+1 min", "Add a minute to the countdown", display="+"),
        _binding("g", "poll", "Poll DNS", "Ask every nameserver now"),
        _binding("P", "park", "Park MX", "Point the MX at parking now (asks first)", show=False),
        _binding("u", "undo", "Undo MX", "Undo the selected dns_update step (asks first)", show=False),
        _binding("slash", "filter", "Filter", "Filter the output lines", display="/"),
        _binding("question_mark", "help", "Help", "Show every key", display="?"),
        _binding("ctrl+s", "screenshot", "Screenshot", "Save an SVG screenshot", show=False),
        _binding("q", "quit", "Quit", "Stop and leave; a later run resumes"),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]  # noqa: RUF012 (Textual declares it an instance variable)

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

    def compose(self) -> ComposeResult:
        views = {
            step_id: StepView(status.step, status.phase, status.state, status.attempt, status.detail)
            for step_id, status in self.run.steps.items()
        }
        yield HeaderBar(id="header")
        with Horizontal(id="panes"):
            with Vertical(id="left"):
                yield ChecklistPane(self.run.plan, views, id="checklist")
                yield CountdownPane(id="countdown")
            with Vertical(id="right"):
                yield (ManyPairsPane if many_pairs(self.run.plan) else NameserversPane)(self.run.plan, id="nameservers")
                yield OutputPane(self.buffer, lambda: self.feed.transfer, id="output")
        yield self.footer()

    def nameservers(self) -> NameserversPane | ManyPairsPane:
        """The nameservers pane: a row per pair, or counts and laggards for plans of many pairs."""
        pane = self.query_one("#nameservers")
        assert isinstance(pane, NameserversPane | ManyPairsPane)
        return pane

    def footer(self) -> Footer:
        return Footer()

    def mode_label(self) -> str:
        """What the header says of how the run goes (`step mode`, `dry run · auto mode`)."""
        return run_mode(self.run)

    def on_mount(self) -> None:
        # Panes fill their own children when they mount, after this screen's on_mount: start after a refresh.
        self.call_after_refresh(self._start)

    def _start(self) -> None:
        self._unsubscribe = self.run.bus.subscribe(self.feed.listener)
        self.set_interval(1.0, self._tick, name="header clock")
        self._tick()
        self.query_one("#step-list").focus()
        for warning in self.warnings:
            self.notify(warning, severity="warning", timeout=15)
        self.run_worker(self._drive(), name="run", group="engine", exit_on_error=False)

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    async def _drive(self) -> int:
        """Start the run's services once this screen listens (none of their events is missed), then run."""
        await self.run.services.start()
        return await self.run.run()

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
        self.finished = event
        severity: Severity = "information" if event.exit_code == 0 else "warning"
        self.notify(f"run {event.outcome} (exit {event.exit_code}) — q leaves", title="Run finished", severity=severity)
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
            self.notify(f"{event.step_id} was interrupted: r reruns, d marks done, s skips", severity="warning")

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
        text = f"{event.level}: {event.text}"
        self.buffer.append(OutputLine(event.at, self.run.current or "", "cockpit", stream, text))
        if event.level != "info":
            self.notify(event.text, severity=NOTICE_SEVERITY.get(event.level, "warning"), timeout=8)

    def _alert(self, text: str, *, title: str, severity: Severity = "information") -> None:
        """A toast and the terminal bell: for what the operator must not miss while looking elsewhere."""
        self.notify(text, title=title, severity=severity, timeout=10)
        self.app.bell()

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

    # ------------------------------------------------------------------ operator actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        prompt = self._open_prompt()
        kind = prompt.kind if prompt else None

        def takes(word: str) -> bool:
            return kind is not None and resolve(kind, word) is not None

        available = {
            "go": takes("go") or kind == PromptKind.FAILED,  # Enter retries a failed step
            "skip": takes("skip"),
            "retry": takes("retry"),
            "mark_done": takes("done"),
            "abort": self.run.running_step() is not None,
            "pause": self.run.countdown() is not None,
            "extend": self.run.countdown() is not None,
            "poll": self.run.services.can_poll(),
            "park": self.run.side.busy() is None and has_parking(self.run.plan),
            "undo": self.run.side.busy() is None and self._undoable(self._selected()) is not None,
        }
        if action == "go" and can_rerun(self, self._selected()):
            return self.run.side.busy() is None
        return available.get(action, True)

    def _open_prompt(self) -> Prompt | None:
        prompt = self.run.prompt
        return prompt if prompt is not None and not prompt.answer.done() else None

    def report_result(self, result: CommandResult) -> None:
        if not result.ok:
            self.notify(result.message, severity="warning")
        self.refresh_bindings()

    def _answer_if_same(self, prompt: Prompt, command: Callable[[], CommandResult]) -> None:
        """Answer only if the run still asks the question the operator saw."""
        if self._open_prompt() is not prompt:
            self.notify("the question changed meanwhile: nothing was answered", severity="warning")
            return
        self.report_result(command())

    def _guarded(self, prompt: Prompt, command: Callable[[], CommandResult]) -> None:
        """An answer goes through its confirmation first, when it has one (see confirmation_for)."""
        question = confirmation_for(self.run, prompt)
        if question is None:
            self._answer_if_same(prompt, command)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._answer_if_same(prompt, command)

        self.app.push_screen(ConfirmScreen(*question), answered)

    def _selected(self) -> str | None:
        return self.query_one(StepList).selected_step

    def _undoable(self, step_id: str | None) -> str | None:
        status = self.run.steps.get(step_id) if step_id is not None else None
        if status is None or status.step.kind != "dns_update" or status.state != StepState.DONE:
            return None
        return step_id

    def action_park(self) -> None:
        ask_park(self)

    def action_undo(self) -> None:
        step_id = self._undoable(self._selected())
        if step_id is None:
            self.notify("select a done dns_update step to undo its MX change", severity="warning")
            return
        self.run_worker(ask_undo(self, step_id), name="undo", group="dialogs", exit_on_error=False)

    def action_go(self) -> None:
        selected = self._selected()
        if can_rerun(self, selected):
            assert selected is not None
            ask_rerun(self, selected)
            return
        prompt = self._open_prompt()
        if prompt is None:
            self.report_result(self.run.go())
        else:
            self._guarded(prompt, self.run.go)

    def action_skip(self) -> None:
        prompt = self._open_prompt()
        if prompt is None:
            self.report_result(CommandResult(False, "nothing waits for an answer"))
            return

        def answered(reason: str | None) -> None:
            if reason:
                self._answer_if_same(prompt, lambda: self.run.skip(reason))

        self.app.push_screen(reason_prompt(prompt.step_id), answered)

    def action_retry(self) -> None:
        prompt = self._open_prompt()
        if prompt is not None and resolve(prompt.kind, "retry") is not None:
            self._guarded(prompt, self.run.retry)
        else:
            self.report_result(self.run.retry())

    def action_mark_done(self) -> None:
        self.report_result(self.run.answer(Answer.MARK_DONE))

    def action_abort(self) -> None:
        running = self.run.running_step()
        if running is None:
            self.report_result(CommandResult(False, "no step is running"))
            return

        def answered(yes: bool | None) -> None:
            if yes and self.run.running_step() == running:
                self.report_result(self.run.abort())

        self.app.push_screen(ConfirmScreen(*abort_question(self.run.steps[running].step, running)), answered)

    def action_pause(self) -> None:
        self.report_result(self.run.pause_or_resume())

    def action_extend(self) -> None:
        self.report_result(self.run.extend(EXTEND_BY))

    def action_poll(self) -> None:
        if not self.run.services.can_poll():
            self.notify("this run has no DNS watcher to poll", severity="warning")
            return
        self.run.services.poll_now()
        self.notify("polling every nameserver now")

    def action_filter(self) -> None:
        """`/` filters the pane it is pressed in: the nameservers' pairs (many-pairs pane), else the output."""
        pane = self.nameservers()
        if isinstance(pane, ManyPairsPane) and pane.has_focus_within:
            pane.open_filter()
            return
        self.query_one(OutputPane).open_filter()

    def action_follow(self) -> None:
        self.query_one(OutputPane).log_view.scroll_end(animate=False)

    def action_help(self) -> None:
        sections = [("Run", self.BINDINGS), ("Checklist", StepList.BINDINGS), ("Output", OutputPane.BINDINGS)]
        self.app.push_screen(HelpScreen(help_sections(self.app, sections)))

    def action_screenshot(self) -> None:
        """An SVG of the screen, beside the journal when the run has one (else in the current folder)."""
        prefix = self.run.services.state_prefix
        try:
            path = self.app.save_screenshot(path=str(prefix.parent) if prefix is not None else None)
        except OSError as exc:
            self.notify(f"cannot save the screenshot: {exc.strerror}", severity="error")
            return
        self.notify(f"screenshot saved: {path}")

    def action_quit(self) -> None:
        if self.finished is not None:
            self.app.exit(self.exit_code)
            return
        running = self.run.running_step()
        if running is None:
            self.stop_run("stopped", 1)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.stop_run("stopped", 1)

        self.app.push_screen(ConfirmScreen(*quit_question(self.run.steps[running].step, running)), answered)

    def stop_run(self, outcome: str, exit_code: int) -> None:
        """Stop the run (the journal keeps it resumable) and leave once its worker has ended."""
        self.quitting = True
        self.exit_code = exit_code
        self.run.stop(outcome, exit_code)
        if self.finished is not None:
            self.app.exit(self.exit_code)
