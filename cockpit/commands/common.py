"""What every subcommand shares: loading a plan or exiting 2 with one line per problem."""

from __future__ import annotations

import sys

import click

from cockpit.base.safe_text import visible
from cockpit.commands.provider_checks import PLAN_CHECKS
from cockpit.engine.exit_codes import EXIT_BAD_INPUT
from cockpit.plan import PlanError, PlanFile, PlanFileError, load_plan


def say(text: str, *, err: bool = False, nl: bool = True) -> None:
    """Print text that may come from a plan or a server: never a terminal control sequence (see safe_text)."""
    click.echo(visible(text, newlines=True), err=err, nl=nl)


def fail(message: str, code: int = EXIT_BAD_INPUT) -> None:
    """Print one line to stderr and exit; never a traceback."""
    say(message, err=True)
    sys.exit(code)


def load_plan_or_exit(path: str) -> PlanFile:
    """The loaded plan, or every problem on stderr (`PLAN:LINE:COL: message`) and exit 2."""
    try:
        return load_plan(path, checks=PLAN_CHECKS)
    except PlanFileError as exc:
        fail(str(exc))
    except PlanError as exc:
        for issue in exc.issues:
            say(str(issue), err=True)
        sys.exit(EXIT_BAD_INPUT)
    raise AssertionError("unreachable")
