"""`cockpit check` warns when the MX moves after the TTL was lowered without the former-TTL gate between."""

from __future__ import annotations

import pytest

from cockpit.plan import PlanError, parse_plan
from cockpit.plan.advice import plan_advice

HEAD = """\
version: 1
name: Gate
domains: [example.com]
ttl: 300
mx: {old: a.example.net., parking: p.example.net., new: b.example.net.}
phases:
  - name: p
    steps:
      - confirm: Lower the MX TTL to 300 s
      - wait_dns: {ttl_at_most: 300}
        id: ttl-low
"""


def test_a_move_without_the_gate_is_named() -> None:
    plan = parse_plan(HEAD + "      - confirm: Park\n      - wait_dns: {mx: parking}\n        id: parked\n", "p.yaml")
    assert plan_advice(plan) == [
        "step parked changes the MX after the TTL was lowered (ttl-low) with no 'countdown: former_ttl' between "
        "them: caches may still hold the MX with its former TTL"
    ]


def test_the_gate_before_the_move_silences_it() -> None:
    plan = parse_plan(HEAD + "      - countdown: former_ttl\n      - wait_dns: {mx: parking}\n", "p.yaml")
    assert plan_advice(plan) == []


def test_former_ttl_needs_the_plan_ttl() -> None:
    with pytest.raises(PlanError) as info:
        parse_plan(HEAD.replace("ttl: 300\n", "") + "      - countdown: former_ttl\n", "p.yaml")
    assert any("countdown: former_ttl needs the plan's 'ttl'" in str(issue) for issue in info.value.issues)
