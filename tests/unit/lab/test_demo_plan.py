"""The demo plan the lab writes: the committed sample is its default rendering, and every rendering loads."""

from __future__ import annotations

import dataclasses

import pytest

from cockpit.lab.demo_plan import RECKLESS_SKIPS, Endpoint, PlanValues, render_demo_plan
from cockpit.lab.pace import Pace
from cockpit.plan import CountdownStep, PortStep, SshStep, parse_plan
from tests.conftest import SAMPLES


def test_the_sample_is_the_default_rendering() -> None:
    rendered = render_demo_plan(PlanValues.sample())
    assert (SAMPLES / "demo.yaml").read_text() == rendered, (
        "regenerate: python -c 'from cockpit.lab.demo_plan import *; "
        'print(render_demo_plan(PlanValues.sample()), end="")\' > sample-plans/demo.yaml'
    )


def _values(**changes: object) -> PlanValues:
    base = PlanValues(
        ns1=Endpoint("127.0.0.1", 40001),
        ns2=Endpoint("127.0.0.1", 40002),
        ssh_old=Endpoint("127.0.0.1", 40003),
        ssh_new=Endpoint("127.0.0.1", 40004),
        smtp_old=Endpoint("127.0.0.2", 40005),
        smtp_parking=Endpoint("127.0.0.3", 40005),
        smtp_new=Endpoint("127.0.0.4", 40005),
        pace=Pace.at(50),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_a_rendering_carries_the_actual_ports_and_durations() -> None:
    plan = parse_plan(render_demo_plan(_values()), "plan.yaml")
    assert [(ns.address, ns.port) for ns in plan.nameservers] == [("127.0.0.1", 40001), ("127.0.0.1", 40002)]
    assert (plan.hosts["old"].port, plan.hosts["new"].port) == (40003, 40004)
    assert plan.hosts["old"].known_hosts == "known_hosts" and plan.hosts["old"].identity == ("id_ed25519",)
    assert plan.secrets["dnskey"].file == "tsig.key"
    ports = {step.id: (step.address, step.port) for _, step in plan.steps() if isinstance(step, PortStep)}
    assert ports == {"parking-refuses": ("127.0.0.3", 40005), "new-mta-listens": ("127.0.0.4", 40005)}
    assert plan.ttl == 1 and plan.dns.interval == pytest.approx(0.1)
    waits = [step.wait for _, step in plan.steps() if isinstance(step, CountdownStep)]
    assert waits == ["former_ttl", "old_ttl"]


def test_a_reckless_plan_leaves_out_the_waits_and_the_forwarding() -> None:
    careful = parse_plan(render_demo_plan(_values()))
    reckless = parse_plan(render_demo_plan(_values(reckless=True)))
    careful_ids = [step.id for _, step in careful.steps()]
    reckless_ids = [step.id for _, step in reckless.steps()]
    assert reckless_ids == [i for i in careful_ids if i not in RECKLESS_SKIPS]
    assert not any(isinstance(step, CountdownStep) for _, step in reckless.steps())


def test_every_ssh_step_is_safe_to_run_again() -> None:
    plan = parse_plan(render_demo_plan(_values()))
    assert all(step.idempotent for _, step in plan.steps() if isinstance(step, SshStep))


@pytest.mark.parametrize("speed", [0.5, 1, 3, 20, 1000])
def test_pace_keeps_ttls_whole_and_ordered(speed: float) -> None:
    pace = Pace.at(speed)
    assert 1 <= pace.low_ttl < pace.normal_ttl
    assert pace.sender_interval > 0 and pace.backoff_first <= pace.backoff_max
    assert parse_plan(render_demo_plan(_values(pace=pace))).ttl == pace.low_ttl


def test_pace_rejects_a_speed_of_zero() -> None:
    with pytest.raises(ValueError, match="speed must be positive"):
        Pace.at(0)
