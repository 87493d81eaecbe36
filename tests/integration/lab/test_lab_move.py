"""The demo plan's steps against the lab, driven from the test: each shell command does what its comment says,
a careful move loses and duplicates nothing, and a reckless one strands mail on the old host."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from cockpit.lab.demo_plan import RECKLESS_SKIPS
from cockpit.lab.mail_store import MailStore
from cockpit.lab.pace import Pace
from cockpit.lab.runtime import Lab
from tests.integration.lab.plan_driver import PlanDriver

LIMIT = 30.0


def listed(path: Path) -> set[int]:
    """Message ids named in one of the lists the plan's commands write (`./MAILBOX/ID.UNIQUE.eml`)."""
    return {int(line.rsplit("/", 1)[1].split(".")[0]) for line in path.read_text().splitlines() if line}


async def more_mail(store: MailStore, than: int) -> None:
    async with asyncio.timeout(LIMIT):
        while store.ids().total() <= than:
            await asyncio.sleep(0.02)


async def test_each_demo_command_works_through_ssh(tmp_path: Path) -> None:
    async with Lab.start(tmp_path / "lab", speed=40) as lab, PlanDriver(lab.plan_path) as driver:
        assert lab.old is not None and lab.new is not None
        old, new = lab.store("old"), lab.store("new")
        await more_mail(old, 5)
        for step_id in ("create-store", "bulk-export", "bulk-copy", "bulk-import"):
            await driver.run_step(driver.step(step_id))
        assert sorted(p.name for p in (lab.new.sandbox / "store").iterdir()) == ["alice", "bob", "carol"]
        bulk = listed(lab.old.sandbox / "bulk.list")
        assert len(bulk) >= 5 and new.ids() == Counter(dict.fromkeys(bulk, 1))
        assert driver.output["bulk-export"] == [f"{len(bulk)} bulk.list"]
        assert driver.output["bulk-import"] == [str(len(bulk))]

        await driver.run_step(driver.step("bulk-import"))  # again: the same names, no duplicates
        assert new.ids() == Counter(dict.fromkeys(bulk, 1))

        await more_mail(old, old.ids().total())
        for step_id in ("delta-export", "delta-copy", "delta-import"):
            await driver.run_step(driver.step(step_id))
        delta = listed(lab.old.sandbox / "delta.list")
        assert delta and not delta & bulk
        assert new.ids() == Counter(dict.fromkeys(bulk | delta, 1))

        await more_mail(old, old.ids().total())
        for step_id in ("stragglers-export", "stragglers-copy", "stragglers-import"):
            await driver.run_step(driver.step(step_id))
        late = listed(lab.old.sandbox / "late.list")
        assert late and not late & (bulk | delta)
        assert new.ids() == Counter(dict.fromkeys(bulk | delta | late, 1))
        assert set(old.ids()) >= bulk | delta | late


async def test_a_careful_move_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    async with Lab.start(tmp_path / "lab", speed=20) as lab, PlanDriver(lab.plan_path) as driver:
        await driver.run()
        assert await lab.drain(LIMIT), f"{lab.pending} message(s) never delivered"
        tally = lab.tally()
    verdict = tally.verdict
    print(f"\ncareful move: {tally.line()}")
    assert (verdict.lost, verdict.duplicated, verdict.stranded, verdict.queued) == (0, 0, 0, 0)
    assert verdict.sent == verdict.old + verdict.new and verdict.moved == verdict.old
    assert verdict.old > 0 and verdict.new > 0
    assert tally.old_ttl == lab.pace.low_ttl and tally.copy_seconds is not None
    assert verdict.downtime is not None and tally.floor is not None
    assert "lost 0 · duplicated 0 · downtime " in tally.line() and "(floor " in tally.line()


async def test_a_reckless_move_strands_mail_on_old(tmp_path: Path) -> None:
    # Caches that hold the old MX for a few seconds, and enough senders that one of them still holds it.
    pace = Pace.at(1, normal_ttl=4, low_ttl=3, secondary_lag=0.3, dns_interval=0.1, senders=6,
                   sender_interval=0.1, backoff_first=0.1, backoff_max=0.5)  # fmt: skip
    async with Lab.start(tmp_path / "lab", pace=pace, reckless=True) as lab, PlanDriver(lab.plan_path) as driver:
        assert not {step.id for _, step in driver.plan.steps()} & RECKLESS_SKIPS
        await driver.run(until="delta-import")
        # Mail keeps reaching old from the caches the skipped wait would have let expire.
        await asyncio.sleep(pace.low_ttl)
        await driver.run()
        assert await lab.drain(LIMIT)
        tally = lab.tally()
    verdict = tally.verdict
    print(f"\nreckless move: {tally.line()}")
    assert verdict.stranded >= 1 and verdict.lost == verdict.stranded
    assert verdict.duplicated == 0 and f"stranded {verdict.stranded}" in tally.line()
