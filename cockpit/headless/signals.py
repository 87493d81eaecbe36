"""Signals during a headless run: SIGHUP and SIGTERM stop it cleanly; Ctrl+C stops at once when no step is
running, and asks for a second Ctrl+C when one is. Exit codes come from the engine's one table."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

from cockpit.base.units import format_duration
from cockpit.engine.events import EventBus, Notice
from cockpit.engine.exit_codes import SIGNAL_EXITS
from cockpit.engine.run import PlanRun

SECOND_INTERRUPT_WINDOW = 3.0


def install_signals(run: PlanRun, bus: EventBus, now: Callable[[], float]) -> Callable[[], None]:
    """Handle the signals on the running loop; returns what removes the handlers."""
    loop = asyncio.get_running_loop()
    last_interrupt = [0.0]

    def on_interrupt() -> None:
        running = run.running_step()
        if running and now() - last_interrupt[0] > SECOND_INTERRUPT_WINDOW:
            last_interrupt[0] = now()
            text = (
                f"step {running} is running: press Ctrl+C again within {format_duration(SECOND_INTERRUPT_WINDOW)} "
                "to stop it and the run (the journal lets you resume)"
            )
            bus.publish(Notice(now(), "warning", text))
            return
        run.stop("stopped", SIGNAL_EXITS[signal.SIGINT])

    for signum, code in SIGNAL_EXITS.items():
        if signum == signal.SIGINT:
            loop.add_signal_handler(signum, on_interrupt)
        else:
            loop.add_signal_handler(signum, run.stop, "stopped", code)

    def remove() -> None:
        for signum in SIGNAL_EXITS:
            loop.remove_signal_handler(signum)

    return remove
