"""The sample plans load, mean what their comments say, and match the published JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from cockpit.plan import CountdownStep, DnsUpdateStep, SshStep, SyncStep, load_plan
from cockpit.plan.schema import plan_schema
from tests.conftest import SAMPLES

PLANS = sorted(SAMPLES.glob("*.yaml"))


def test_the_required_samples_exist() -> None:
    assert {p.name for p in PLANS} >= {"sendmail-mbox.yaml", "postfix-dovecot.yaml", "demo.yaml"}


@pytest.mark.parametrize("path", PLANS, ids=lambda p: p.name)
def test_sample_loads(path: Path) -> None:
    loaded = load_plan(path)
    assert loaded.plan.phases
    assert len(loaded.sha256) == 64


@pytest.mark.parametrize("path", PLANS, ids=lambda p: p.name)
def test_sample_points_editors_at_the_schema(path: Path) -> None:
    first = path.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=./plan-v1.schema.json"


def test_committed_schema_is_current() -> None:
    committed = json.loads((SAMPLES / "plan-v1.schema.json").read_text())
    assert committed == plan_schema(), "run: cockpit schema > sample-plans/plan-v1.schema.json"


@pytest.mark.parametrize("path", PLANS, ids=lambda p: p.name)
def test_sample_validates_against_the_schema(path: Path) -> None:
    jsonschema.Draft202012Validator(plan_schema()).validate(yaml.safe_load(path.read_text()))


def test_schema_rejects_what_the_loader_rejects() -> None:
    data = yaml.safe_load((SAMPLES / "sendmail-mbox.yaml").read_text())
    data["phases"][0]["steps"][0]["sshh"] = {"host": "new"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(plan_schema()).validate(data)


def test_sendmail_sample_is_the_classic_move() -> None:
    plan = load_plan(SAMPLES / "sendmail-mbox.yaml").plan
    kinds = [step.kind for _, step in plan.steps()]
    assert "dns_update" not in kinds  # the provider's panel: MX changes are confirmations
    assert len(plan.nameservers) == 2
    assert any(isinstance(s, CountdownStep) and s.wait == "old_ttl" for _, s in plan.steps())


def test_postfix_sample_precopies_and_updates_dns() -> None:
    plan = load_plan(SAMPLES / "postfix-dovecot.yaml").plan
    by_phase = {phase.name: [s.kind for s in phase.steps] for phase in plan.phases}
    assert "sync" in by_phase["before"] and "sync" in by_phase["during"] and "verify" in by_phase["during"]
    updates = [s for _, s in plan.steps() if isinstance(s, DnsUpdateStep)]
    assert {u.mx for u in updates} == {"old", "parking", "new"}
    assert plan.hosts["new"].ssh_config == "mx2"


@pytest.mark.parametrize("name", ["sendmail-mbox.yaml", "postfix-dovecot.yaml", "demo.yaml"])
def test_every_sample_proves_the_move(name: str) -> None:
    plan = load_plan(SAMPLES / name).plan
    kinds = {step.kind for _, step in plan.steps()}
    assert {"sync", "verify", "canary", "drain"} <= kinds, kinds
    assert any(isinstance(s, CountdownStep) and s.wait == "former_ttl" for _, s in plan.steps())


def test_demo_sample_walks_the_three_windows() -> None:
    plan = load_plan(SAMPLES / "demo.yaml").plan
    steps = [s for _, s in plan.steps()]
    assert [p.name for p in plan.phases] == ["before", "during", "after"]
    assert sum(isinstance(s, SyncStep) for s in steps) >= 3, "pre-copy, delta and stragglers"
    assert all(s.idempotent for s in steps if isinstance(s, SshStep | SyncStep))
