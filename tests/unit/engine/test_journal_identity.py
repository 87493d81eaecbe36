"""The journal and lock belong to the resolved plan file: a symlink to a plan shares them (a second cockpit is
refused), and two plan files that differ only in suffix (`move.yaml`, `move.yml`) each have their own."""

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit.base.clock import FakeClock
from cockpit.engine.events import EventBus
from cockpit.engine.journal import journal_path, read_journal
from cockpit.engine.options import RunOptions
from cockpit.engine.services import RunServices
from cockpit.engine.session import Session, SessionRefused, open_session
from cockpit.plan import load_plan

PLAN = """\
version: 1
name: NAME
domains: [example.com]
mx: {old: a.example.net., new: b.example.net.}
phases:
  - name: p
    steps:
      - confirm: One manual thing
"""


def session(path: Path) -> Session:
    plan_file = load_plan(path)
    clock, bus = FakeClock(), EventBus()
    services = RunServices(plan_file.plan, path.parent, clock, bus, watch_dns=False)
    return open_session(plan_file, options=RunOptions(yes=True), clock=clock, bus=bus, services=services)


async def run(path: Path) -> int:
    opened = session(path)
    try:
        return await opened.run.run()
    finally:
        opened.close()


def test_a_symlink_to_a_plan_shares_its_lock_and_journal(tmp_path: Path) -> None:
    real = tmp_path / "real"
    other = tmp_path / "other"
    real.mkdir()
    other.mkdir()
    (real / "plan.yaml").write_text(PLAN)
    (other / "move.yaml").symlink_to("../real/plan.yaml")
    assert journal_path(other / "move.yaml") == journal_path(real / "plan.yaml")
    first = session(real / "plan.yaml")
    try:
        with pytest.raises(SessionRefused, match="already being run by"):
            session(other / "move.yaml")
    finally:
        first.close()
    assert not (other / ".cockpit").exists()


async def test_yaml_and_yml_beside_each_other_have_a_journal_each(tmp_path: Path) -> None:
    (tmp_path / "move.yaml").write_text(PLAN.replace("NAME", "first"))
    (tmp_path / "move.yml").write_text(PLAN.replace("NAME", "second"))
    assert await run(tmp_path / "move.yaml") == 0
    assert await run(tmp_path / "move.yml") == 0  # not "the plan changed"
    assert await run(tmp_path / "move.yaml") == 0
    names = {p.name for p in (tmp_path / ".cockpit").glob("*.journal")}
    assert names == {"move.yaml.journal", "move.yml.journal"}
    first = read_journal(tmp_path / ".cockpit" / "move.yaml.journal").records
    assert [r["plan_name"] for r in first if r["type"] == "RunStarted"] == ["first", "first"]


async def test_a_journal_named_by_the_stem_alone_is_adopted(tmp_path: Path) -> None:
    plan = tmp_path / "move.yaml"
    plan.write_text(PLAN.replace("NAME", "legacy"))
    assert await run(plan) == 0
    journal_path(plan).rename(tmp_path / ".cockpit" / "move.journal")  # as earlier versions named it
    assert await run(plan) == 0
    records = read_journal(journal_path(plan)).records
    assert [r["type"] for r in records].count("RunStarted") == 2
    assert not (tmp_path / ".cockpit" / "move.journal").exists()


async def test_a_stem_journal_is_not_adopted_by_a_sibling_of_another_plan(tmp_path: Path) -> None:
    (tmp_path / "move.yaml").write_text(PLAN.replace("NAME", "first"))
    assert await run(tmp_path / "move.yaml") == 0
    legacy = tmp_path / ".cockpit" / "move.journal"
    journal_path(tmp_path / "move.yaml").rename(legacy)
    (tmp_path / "move.yml").write_text(PLAN.replace("NAME", "second"))
    assert await run(tmp_path / "move.yml") == 0
    assert legacy.exists()  # it belongs to move.yaml (its digest), not to move.yml
    assert await run(tmp_path / "move.yaml") == 0
    assert not legacy.exists()
