"""What `cockpit run` and `cockpit demo` share: opening a run of a plan file, and driving it headless."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cockpit.commands.common import say
from cockpit.engine.clock import SystemClock
from cockpit.engine.events import EventBus, Listener, Notice
from cockpit.engine.headless import HeadlessPrinter
from cockpit.engine.headless_runner import (
    EXIT_STDOUT_CLOSED,
    StdinAnswers,
    StdoutLines,
    install_signals,
    over_ssh_outside_multiplexer,
)
from cockpit.engine.journal import JournalError
from cockpit.engine.run import RunOptions
from cockpit.engine.services import RunServices
from cockpit.engine.session import Session, SessionRefused, open_session
from cockpit.plan import PlanFile
from cockpit.ssh import PassphrasePrompt


@dataclass
class OpenRun:
    clock: SystemClock
    bus: EventBus
    services: RunServices
    session: Session


def open_run(
    plan_file: PlanFile,
    options: RunOptions,
    *,
    command: str,
    fresh: bool = False,
    accept_plan_change: bool = False,
    passphrase: PassphrasePrompt | None = None,
    listeners: Sequence[Listener] = (),
) -> OpenRun | None:
    """The run's clock, bus, services and session (lock taken, journal open); None after saying on one line
    why it cannot start. `listeners` hear the session's own notices (a stale lock taken over)."""
    clock = SystemClock()
    bus = EventBus()
    for listener in listeners:
        bus.subscribe(listener)
    services = RunServices(plan_file.plan, plan_file.path.resolve().parent, clock, bus, passphrase=passphrase)
    try:
        session = open_session(plan_file, options=options, clock=clock, bus=bus, services=services, fresh=fresh,
                               accept_plan_change=accept_plan_change)  # fmt: skip
    except (SessionRefused, JournalError) as exc:
        say(f"cockpit {command}: {exc}", err=True)
        return None
    services.resume = session.resume
    return OpenRun(clock, bus, services, session)


async def run_headless(opened: OpenRun, printer: HeadlessPrinter, *, answer_from_stdin: bool) -> int:
    """Run to the end printing events; prompts read from stdin unless every answer is automatic."""
    clock, bus, services, session = opened.clock, opened.bus, opened.services, opened.session
    if over_ssh_outside_multiplexer():
        bus.publish(Notice(clock.now(), "warning", "running over SSH outside tmux/screen: a dropped connection "
                           "stops the cockpit (the journal lets you resume)"))  # fmt: skip
    if answer_from_stdin:
        answers = StdinAnswers(session.run, printer.write)
        await answers.open()
        bus.subscribe(answers)
    if isinstance(printer.write, StdoutLines):

        def reader_gone() -> None:
            session.run.stop("stopped", EXIT_STDOUT_CLOSED)

        printer.write.on_closed = reader_gone
    remove_signals = install_signals(session.run, bus, clock.now)
    try:
        await services.start()
        return await session.run.run()
    finally:
        remove_signals()
        await services.close()
