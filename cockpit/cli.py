"""The `cockpit` command: a click group assembled from cockpit/commands/, with one-line errors only."""

from __future__ import annotations

import sys

import click

from cockpit import __version__
from cockpit.commands.check import check
from cockpit.commands.common import say
from cockpit.commands.demo import demo
from cockpit.commands.lab import lab
from cockpit.commands.observe import observe
from cockpit.commands.report import report
from cockpit.commands.retreat import park_command, undo_command
from cockpit.commands.run import run
from cockpit.commands.schema import schema
from cockpit.commands.serve import serve
from cockpit.commands.watch import watch
from cockpit.engine.exit_codes import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_INTERRUPTED


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="cockpit")
def cli() -> None:
    """mx-cockpit: move a domain's mail to a new server with minimal downtime and no lost mail."""


cli.add_command(demo)
cli.add_command(check)
cli.add_command(schema)
cli.add_command(run)
cli.add_command(report)
cli.add_command(observe)
cli.add_command(serve)
cli.add_command(park_command)
cli.add_command(undo_command)
cli.add_command(watch)
cli.add_command(lab)


def main() -> None:
    """Entry point: runs the group; an unexpected error is one line and exit 1, never a traceback."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_BAD_INPUT if isinstance(exc, click.UsageError) else exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except BrokenPipeError:
        sys.exit(EXIT_FAILED)
    except Exception as exc:
        say(f"cockpit: internal error: {type(exc).__name__}: {exc} (please report it)", err=True)
        sys.exit(EXIT_FAILED)
