"""The demo plan's steps, phase by phase, as templates the lab fills with the addresses, ports and durations it
uses (`demo_plan.render_demo_plan`). They are written as the plan reads, in `demo_plan_steps.yaml.tmpl`; the
comment above each step there says why a careful operator runs it.

The order is the method's: pre-copy while mail still flows; park the MX and prove senders are refused; wait
out the caches and see the old store fall quiet; copy the delta and verify it; start the new MTA, let it
listen on the parking address too and prove, with a canary sent through the MX the nameservers serve, that
mail is delivered again (this ends the downtime); only then point the MX at the new MTA's own address, copy
what still reached old, verify again and restore the TTL.
"""

from __future__ import annotations

import re
from importlib import resources

DELTA_SYNC = "delta-sync"
"""The sync pass in the downtime: its duration is the copy part of the downtime's floor."""
START_NEW_MTA = "start-new-mta"
OPEN_PARKING = "open-parking"
RECKLESS_SKIPS = frozenset(
    {"normal-ttl-wait", "old-ttl-wait", "old-quiet", "delta-verify", "stragglers-sync", "final-verify"}
)
"""Steps a reckless plan leaves out: no TTL waits (nor the quiet store that proves them), no stragglers pass, and
no verify (it would stop the hurried move at the delta, naming the mail that reached old too late)."""

Phase = tuple[str, tuple[tuple[str, str], ...]]
"""A phase's name and its steps, each as (step id, the step's text: its comment lines and its YAML)."""

STEP_START = "      - "
_PHASE = re.compile(r"^## phase (\S+)\n", re.MULTILINE)
_STEP_ID = re.compile(r"^ +id: (\S+)$", re.MULTILINE)


def parse_phases(text: str) -> tuple[Phase, ...]:
    """The phases of the template: `## phase NAME` starts one; a step starts at its first comment line, or at its
    `- kind:` line when no comment is above it; what comes before the first phase is the file's own comment."""
    parts = _PHASE.split(text)
    phases: list[Phase] = []
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        steps: list[list[str]] = []
        after_comment = False
        for line in body.rstrip("\n").splitlines():
            comment = line.lstrip().startswith("#")
            if not steps or (not after_comment and (comment or line.startswith(STEP_START))):
                steps.append([])
            steps[-1].append(line)
            after_comment = comment
        phases.append((name, tuple(_with_id("\n".join(lines)) for lines in steps)))
    return tuple(phases)


def _with_id(step: str) -> tuple[str, str]:
    ids = _STEP_ID.findall(step)
    if len(ids) != 1:
        raise ValueError(f"a demo plan step needs exactly one id, this one has {len(ids)}: {step!r}")
    return ids[0], step


PHASES: tuple[Phase, ...] = parse_phases(
    (resources.files("cockpit.lab") / "demo_plan_steps.yaml.tmpl").read_text(encoding="utf-8")
)
