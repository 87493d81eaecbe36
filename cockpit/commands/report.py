"""`cockpit report JOURNAL`: the timeline of a run, its DNS flips and its downtime window."""

from __future__ import annotations

from pathlib import Path

import click

from cockpit.commands.common import fail
from cockpit.engine.journal import JournalError, journal_path, read_journal
from cockpit.engine.report import build_timeline, render_html, render_markdown


@click.command("report")
@click.argument("journal", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md", show_default=True)
def report(journal: Path, fmt: str) -> None:
    """Print the report of the run recorded in JOURNAL (.cockpit/PLAN.yaml.journal beside the plan)."""
    if not journal.is_file():
        fail(f"{journal}: no such journal file")
    if not _looks_like_a_journal(journal):
        beside = journal_path(journal)
        where = f"its journal is {beside}" if beside.is_file() else f"its journal would be {beside} (none yet)"
        fail(f"{journal} is not a journal (a plan?): {where}; run: cockpit report {beside}")
    try:
        contents = read_journal(journal)
    except JournalError as exc:
        fail(str(exc))
    if not contents.records:
        fail(f"{journal}: the journal is empty")
    timeline = build_timeline(contents.records)
    click.echo(render_html(timeline) if fmt == "html" else render_markdown(timeline), nl=False)


def _looks_like_a_journal(path: Path) -> bool:
    """A journal's lines are JSON objects; anything else (a plan, a report) is not one."""
    try:
        with path.open("rb") as handle:
            start = handle.read(64).lstrip()
    except OSError:
        return True  # read_journal says what is wrong
    return not start or start.startswith(b"{")
