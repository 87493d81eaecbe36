"""`cockpit lab up`: the embedded lab alone, until Ctrl+C or SIGTERM, with a plan written for it.

The tally it prints at the end takes the downtime from the journal of a `cockpit run` of that plan (the
engine's one definition, as `cockpit report` shows it); mail still on old at that moment is stranded, not
lost."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import click

from cockpit.base.units import format_duration
from cockpit.commands.common import say
from cockpit.commands.demo import journal_figures, open_lab
from cockpit.lab.runtime import Lab

EXIT_LAB_FAILED = 1
DEFAULT_SMTP_PORT = 2525
"""The SMTP port without root (port 25 needs it)."""
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""Each stops the lab and prints the tally (SIGHUP: the terminal or SSH session went away)."""


@click.group()
def lab() -> None:
    """The embedded lab: nameservers, SSH hosts, MTAs and retrying senders on loopback."""


@lab.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder for the plan, keys and host sandboxes (default: a new temporary folder).",
)
@click.option(
    "--speed",
    type=click.FloatRange(min=0.01, max=1000),
    default=1.0,
    show_default=True,
    help="Compress every duration (TTLs, lags, sender rate) by this factor.",
)
@click.option(
    "--messages", type=click.IntRange(min=1), default=None, help="Stop sending after N messages (default: never)."
)
@click.option(
    "--smtp-port",
    type=click.IntRange(0, 65535),
    default=None,
    help=f"SMTP port of the three mail addresses (default: 25 as root, else {DEFAULT_SMTP_PORT}; 0: any free port).",
)
@click.option("--reckless", is_flag=True, help="Write a plan without the TTL waits and without forwarding stragglers.")
def up(directory: Path | None, speed: float, messages: int | None, smtp_port: int | None, reckless: bool) -> None:
    """Start the lab, write DIR/plan.yaml for it, and run until Ctrl+C; then print the tally."""
    if smtp_port is None:
        smtp_port = 25 if hasattr(os, "geteuid") and os.geteuid() == 0 else DEFAULT_SMTP_PORT
    lab_ = Lab.start(directory, speed=speed, messages=messages, reckless=reckless, smtp_port=smtp_port)
    sys.exit(asyncio.run(_serve(lab_)))


async def _serve(lab_: Lab) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    now = asyncio.Event()

    def signalled() -> None:
        (now if stop.is_set() else stop).set()

    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, signalled)
    try:
        if not await open_lab(lab_, "lab"):
            return EXIT_LAB_FAILED
        try:
            _announce(lab_)
            await stop.wait()
            if lab_.pending:
                say(
                    f"stopping: {lab_.pending} message(s) still being retried; waiting up to "
                    f"{format_duration(lab_.pace.drain_timeout)} for them (Ctrl+C again to stop now)"
                )
                drained = asyncio.ensure_future(lab_.drain())
                interrupted = asyncio.ensure_future(now.wait())
                await asyncio.wait({drained, interrupted}, return_when=asyncio.FIRST_COMPLETED)
                for task in (drained, interrupted):
                    task.cancel()
                await asyncio.gather(drained, interrupted, return_exceptions=True)
            lab_.stop_submitting()
            say(lab_.tally(journal_figures(lab_.plan_path)).line())
        finally:
            await lab_.close()
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)
    return 0


def _announce(lab_: Lab) -> None:
    pace = lab_.pace
    say(f"lab running in {lab_.directory} (speed {pace.speed:g})")
    for line in lab_.describe():
        say(f"  {line}")
    say(f"plan: {lab_.plan_path}")
    say(f"run it with: cockpit run {lab_.plan_path}")
    say("Ctrl+C stops the lab and prints the tally (with the downtime of the plan's run, if it ran).")
