"""`cockpit schema`: the JSON Schema of plan v1 on stdout, for editors."""

from __future__ import annotations

import json

import click

from cockpit.plan.schema import plan_schema


@click.command()
def schema() -> None:
    """Print the JSON Schema of plan format v1 (point your editor's YAML support at it)."""
    click.echo(json.dumps(plan_schema(), indent=2))
