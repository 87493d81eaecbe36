"""`cockpit check PLAN...`: validate plans and summarise them, or list every located problem."""

from __future__ import annotations

import sys

import click

from cockpit.commands.common import EXIT_BAD_INPUT
from cockpit.plan import Plan, PlanError, PlanFileError, load_plan


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def summary(plan: Plan) -> str:
    """One line: what the plan covers."""
    steps = sum(len(phase.steps) for phase in plan.phases)
    side = sum(1 for _, step in plan.steps() if step.side_effects)
    ns = _count(len(plan.nameservers), "nameserver") if plan.nameservers else "nameservers from NS records"
    phases = ", ".join(phase.name for phase in plan.phases)
    return (
        f"{_count(len(plan.phases), 'phase')} ({phases}), {_count(steps, 'step')} ({side} change servers), "
        f"{_count(len(plan.hosts), 'host')}, {_count(len(plan.domains), 'domain')}, {ns}, "
        f"MX states: {', '.join(plan.mx)}"
    )


@click.command()
@click.argument("plans", nargs=-1, required=True, type=click.Path(dir_okay=True, path_type=str))
def check(plans: tuple[str, ...]) -> None:
    """Validate PLAN files; exit 0 when all are valid, 2 otherwise (one line per problem on stderr)."""
    bad = False
    for path in plans:
        try:
            loaded = load_plan(path)
        except PlanFileError as exc:
            click.echo(str(exc), err=True)
            bad = True
            continue
        except PlanError as exc:
            for issue in exc.issues:
                click.echo(str(issue), err=True)
            bad = True
            continue
        click.echo(f"{path}: ok — {loaded.plan.name}: {summary(loaded.plan)}")
    if bad:
        sys.exit(EXIT_BAD_INPUT)
