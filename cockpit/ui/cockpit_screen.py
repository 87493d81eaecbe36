"""The cockpit: four panes fed by the engine's events (run_panes.py), and the operator's keys, which call the
run's command API. Every action exists as a binding (footer, `?`) and in the command palette."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer

from cockpit.engine.prompts import Answer, CommandResult, Prompt, PromptKind, resolve
from cockpit.engine.states import StepState
from cockpit.ui.dialogs.confirm_screen import ConfirmScreen
from cockpit.ui.dialogs.help_screen import HelpScreen, help_sections
from cockpit.ui.dialogs.operator_dialogs import abort_question, confirmation_for, quit_question
from cockpit.ui.dialogs.text_prompt import reason_prompt
from cockpit.ui.panes.checklist_pane import ChecklistPane, StepView
from cockpit.ui.panes.countdown_pane import CountdownPane
from cockpit.ui.panes.header_bar import HeaderBar
from cockpit.ui.panes.nameservers_pane import NameserversPane
from cockpit.ui.panes.ns_many import ManyPairsPane, many_pairs
from cockpit.ui.panes.output_pane import OutputPane, output_keys
from cockpit.ui.panes.step_list import StepList
from cockpit.ui.retreat_keys import ask_park, ask_rerun, ask_undo, can_rerun, has_parking
from cockpit.ui.run_panes import RunPanes

EXTEND_BY = 60.0


def _binding(key: str, action: str, description: str, tooltip: str, *, show: bool = True, display: str = "") -> Binding:
    return Binding(key, action, description, show=show, key_display=display or None, id=f"cockpit.{action}",
                   tooltip=tooltip)  # fmt: skip


class CockpitScreen(RunPanes):
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

    def footer(self) -> Footer:
        return Footer()

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
        sections = [("Run", self.BINDINGS), ("Checklist", StepList.BINDINGS), ("Output", output_keys())]
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
