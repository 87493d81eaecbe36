"""What every subcommand shares: loading a plan or exiting 2 with one line per problem."""

from __future__ import annotations

import sys

import click

from cockpit.plan import PlanError, PlanFile, PlanFileError, load_plan

EXIT_BAD_INPUT = 2


def fail(message: str, code: int = EXIT_BAD_INPUT) -> None:
    """Print one line to stderr and exit; never a traceback."""
    click.echo(message, err=True)
    sys.exit(code)


def load_plan_or_exit(path: str) -> PlanFile:
    """The loaded plan, or every problem on stderr (`PLAN:LINE:COL: message`) and exit 2."""
    try:
        return load_plan(path)
    except PlanFileError as exc:
        fail(str(exc))
    except PlanError as exc:
        for issue in exc.issues:
            click.echo(str(issue), err=True)
        sys.exit(EXIT_BAD_INPUT)
    raise AssertionError("unreachable")
