"""The demo plan the lab writes: the committed sample is its default rendering, and every rendering loads."""

from __future__ import annotations

import dataclasses

import pytest

from cockpit.lab.demo_plan import Endpoint, PlanValues, render_demo_plan
from cockpit.lab.demo_plan_steps import DELTA_SYNC, RECKLESS_SKIPS, parse_phases
from cockpit.lab.pace import Pace
from cockpit.plan import CanaryStep, CountdownStep, DrainStep, PortStep, SshStep, SyncStep, VerifyStep, parse_plan
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
    canaries = [(step.expect, step.port) for _, step in plan.steps() if isinstance(step, CanaryStep)]
    assert canaries == [("refused", 40005), ("delivered", 40005)]
    (drain,) = [step for _, step in plan.steps() if isinstance(step, DrainStep)]
    assert drain.store == "old-store" and drain.quiet == pytest.approx(Pace.at(50).quiet)


def test_the_stores_are_maildirs_in_each_hosts_home() -> None:
    plan = parse_plan(render_demo_plan(_values()))
    assert {name: (s.host, s.format, s.path) for name, s in plan.stores.items()} == {
        "old-store": ("old", "maildir", "~/store/{user}"),
        "new-store": ("new", "maildir", "~/store/{user}"),
    }
    moves = [(step.id, step.source, step.dest) for _, step in plan.steps() if isinstance(step, SyncStep | VerifyStep)]
    assert {(source, dest) for _, source, dest in moves} == {("old-store", "new-store")}
    assert [step_id for step_id, _, _ in moves] == [
        "pre-copy",
        DELTA_SYNC,
        "delta-verify",
        "stragglers-sync",
        "final-verify",
    ]


def test_the_downtime_ends_with_mail_delivered_through_parking_before_the_mx_moves_on() -> None:
    plan = parse_plan(render_demo_plan(_values()))
    order = [step.id for _, step in plan.steps()]
    assert order.index("parking-propagated") < order.index("senders-refused") < order.index("old-ttl-wait")
    assert order.index("old-ttl-wait") < order.index("old-quiet") < order.index(DELTA_SYNC)
    assert order.index("delta-verify") < order.index("start-new-mta") < order.index("new-mta-listens")
    assert order.index("new-mta-listens") < order.index("open-parking") < order.index("parking-delivers")
    assert order.index("parking-delivers") < order.index("mx-to-new") < order.index("stragglers-sync")
    delivered = next(step for _, step in plan.steps() if step.id == "parking-delivers")
    assert isinstance(delivered, CanaryStep)
    assert (delivered.to, delivered.store) == ("alice@demo.test", "new-store")


def test_a_reckless_plan_leaves_out_the_waits_and_the_forwarding() -> None:
    careful = parse_plan(render_demo_plan(_values()))
    reckless = parse_plan(render_demo_plan(_values(reckless=True)))
    careful_ids = [step.id for _, step in careful.steps()]
    reckless_ids = [step.id for _, step in reckless.steps()]
    assert reckless_ids == [i for i in careful_ids if i not in RECKLESS_SKIPS]
    assert set(careful_ids) >= RECKLESS_SKIPS
    assert not any(isinstance(step, CountdownStep | DrainStep | VerifyStep) for _, step in reckless.steps())
    assert [step.id for _, step in reckless.steps() if isinstance(step, SyncStep)] == ["pre-copy", DELTA_SYNC]


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


def test_the_step_template_splits_at_comments_and_at_steps_without_one() -> None:
    text = (
        "# the file's own comment\n"
        "## phase first\n"
        "      # why a\n"
        "      # more on a\n"
        "      - port: {port: 1}\n"
        "        id: a\n"
        "      - port: {port: 2}\n"
        "        id: b\n"
        "## phase second\n"
        "      # why c\n"
        "      - ssh:\n"
        "          run: >-\n"
        "            true\n"
        "        id: c\n"
    )
    phases = parse_phases(text)
    assert [(name, [step_id for step_id, _ in steps]) for name, steps in phases] == [
        ("first", ["a", "b"]),
        ("second", ["c"]),
    ]
    assert phases[0][1][0][1] == "      # why a\n      # more on a\n      - port: {port: 1}\n        id: a"


@pytest.mark.parametrize(
    "step", ["      - port: {port: 1}\n", "      - port: {port: 1}\n        id: a\n        id: b\n"]
)
def test_a_template_step_without_exactly_one_id_is_refused(step: str) -> None:
    with pytest.raises(ValueError, match="exactly one id"):
        parse_phases("## phase first\n" + step)
