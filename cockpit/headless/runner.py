"""`cockpit run --headless` (and `cockpit demo --headless`): a run driven from a plain terminal or a pipe."""

from __future__ import annotations

from cockpit.engine.events import Notice
from cockpit.engine.exit_codes import EXIT_STDOUT_CLOSED, OVER_SSH_WARNING, over_ssh_outside_multiplexer
from cockpit.engine.run import PlanRun
from cockpit.headless.printer import HeadlessPrinter
from cockpit.headless.signals import install_signals
from cockpit.headless.stdin_answers import StdinAnswers
from cockpit.headless.stdout_lines import StdoutLines


async def run_headless(run: PlanRun, printer: HeadlessPrinter, *, answer_from_stdin: bool) -> int:
    """Run to the end printing events; prompts read from stdin unless every answer is automatic. Starts the
    run's services and closes them at the end."""
    bus, clock, services = run.bus, run.clock, run.services
    if over_ssh_outside_multiplexer():
        bus.publish(Notice(clock.now(), "warning", OVER_SSH_WARNING))
    if answer_from_stdin:
        answers = StdinAnswers(run, printer.write)
        await answers.open()
        bus.subscribe(answers)
    if isinstance(printer.write, StdoutLines):

        def reader_gone() -> None:
            run.stop("stopped", EXIT_STDOUT_CLOSED)

        printer.write.on_closed = reader_gone
    remove_signals = install_signals(run, bus, clock.now)
    try:
        await services.start()
        return await run.run()
    finally:
        remove_signals()
        await services.close()
