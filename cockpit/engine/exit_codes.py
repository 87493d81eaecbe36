"""What a run exits with, for every front-end: one table, so the full screen and the headless runner agree."""

from __future__ import annotations

import os
import signal

EXIT_DONE = 0
EXIT_FAILED = 1
"""A step failed, the operator stopped the run, or something it needs did not answer."""
EXIT_BAD_INPUT = 2
"""A bad plan or argument, or a refused start (lock held, plan changed, unreadable journal)."""
EXIT_STDOUT_CLOSED = 141
"""128 + SIGPIPE: the reader of a headless run's output went away (`... | head -1`)."""
SIGNAL_EXITS: dict[signal.Signals, int] = {signal.SIGHUP: 129, signal.SIGINT: 130, signal.SIGTERM: 143}
"""128 + the signal: the terminal or SSH session went away, Ctrl+C, a polite kill. The journal lets a later
run resume."""
EXIT_INTERRUPTED = SIGNAL_EXITS[signal.SIGINT]
"""Ctrl+C, or a prompt answered with Ctrl+D/Ctrl+C: what every command exits with when interrupted."""

OVER_SSH_WARNING = (
    "running over SSH outside tmux/screen: a dropped connection stops the cockpit (the journal lets you resume)"
)


def over_ssh_outside_multiplexer() -> bool:
    """Started in an SSH session but not inside tmux or screen: a dropped connection stops the cockpit."""
    return bool(os.environ.get("SSH_CONNECTION")) and not (os.environ.get("TMUX") or os.environ.get("STY"))
