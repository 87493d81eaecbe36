"""`cockpit check PLAN...`: validate plans and summarise them, or list every located problem."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from cockpit.commands.common import say
from cockpit.commands.provider_checks import PLAN_CHECKS
from cockpit.engine.exit_codes import EXIT_BAD_INPUT
from cockpit.plan import Plan, PlanError, PlanFileError, load_plan
from cockpit.plan.advice import plan_advice
from cockpit.plan.mx_summary import describe_state

EXIT_UNREACHABLE = 1


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def summary(plan: Plan) -> str:
    """One line: what the plan covers."""
    steps = sum(len(phase.steps) for phase in plan.phases)
    side = sum(1 for _, step in plan.steps() if step.side_effects)
    ns = _count(len(plan.nameservers), "nameserver") if plan.nameservers else "nameservers from NS records"
    phases = ", ".join(phase.name for phase in plan.phases)
    source = f" (from {plan.domains_file})" if plan.domains_file else ""
    return (
        f"{_count(len(plan.phases), 'phase')} ({phases}), {_count(steps, 'step')} ({side} change servers), "
        f"{_count(len(plan.hosts), 'host')}, {_count(len(plan.domains), 'domain')}{source}, {ns}, "
        f"MX states: {', '.join(plan.mx)}"
    )


@click.command()
@click.argument("plans", nargs=-1, required=True, type=click.Path(dir_okay=True, path_type=str))
@click.option("--online", is_flag=True,
              help="Also ask the nameservers, log in to the hosts, load the secrets, read the primaries.")  # fmt: skip
@click.option("--pairs", "per_pair", is_flag=True,
              help="With --online: one line per domain × nameserver pair, also for many (else summed up).")  # fmt: skip
def check(plans: tuple[str, ...], online: bool, per_pair: bool) -> None:
    """Validate PLAN files; exit 0 when all are valid, 2 otherwise (one line per problem on stderr).

    With --online, exit 1 when the plans are valid but something they need does not answer.
    """
    bad = False
    unreachable = False
    for path in plans:
        try:
            loaded = load_plan(path, checks=PLAN_CHECKS)
        except PlanFileError as exc:
            say(str(exc), err=True)
            bad = True
            continue
        except PlanError as exc:
            for issue in exc.issues:
                say(str(issue), err=True)
            bad = True
            continue
        say(f"{path}: ok — {loaded.plan.name}: {summary(loaded.plan)}")
        if loaded.plan.mx_per_domain:
            for state in loaded.plan.mx:
                say(f"  {state}: {describe_state(loaded.plan, state)}")
        for advice in plan_advice(loaded.plan):
            say(f"{path}: warning: {advice}")
        if online and not _online(path, loaded.plan, loaded.path.resolve().parent, per_pair):
            unreachable = True
    if bad:
        sys.exit(EXIT_BAD_INPUT)
    if unreachable:
        sys.exit(EXIT_UNREACHABLE)


def _online(path: str, plan: Plan, base_dir: Path, per_pair: bool) -> bool:
    from cockpit.commands.online_check import online_findings
    from cockpit.headless.tty_passphrase import terminal_passphrase

    findings = asyncio.run(online_findings(plan, base_dir, terminal_passphrase, per_pair=per_pair))
    for finding in findings:
        say(finding.line())
    checks = sum(finding.count for finding in findings)
    problems = sum(finding.count for finding in findings if not finding.ok)
    say(f"{path}: online: {_count(checks, 'check')}, {_count(problems, 'problem')}; nothing was changed")
    return problems == 0
