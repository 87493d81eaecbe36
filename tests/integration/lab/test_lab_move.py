"""The demo plan's steps against the lab, driven from the test: the mail steps move the lab's Maildirs by
message identity, a careful move loses and duplicates nothing, the tally and `verify` both see a message that
goes missing on new, and a reckless move strands mail on the old host."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cockpit.base.units import format_duration
from cockpit.commands.demo import run_figures
from cockpit.lab.demo_plan_steps import RECKLESS_SKIPS
from cockpit.lab.mail_store import MailStore
from cockpit.lab.pace import Pace
from cockpit.lab.runtime import Lab
from tests.integration.lab.plan_driver import PlanDriver

LIMIT = 30.0


async def more_mail(store: MailStore, than: int) -> None:
    async with asyncio.timeout(LIMIT):
        while store.ids().total() <= than:
            await asyncio.sleep(0.02)


def maildir_files(store: MailStore) -> dict[str, set[str]]:
    """Each Maildir's subfolders that hold files, by user: delivered mail is in new/ (or cur/), never tmp/."""
    return {
        user.name: {sub.name for sub in user.iterdir() if any(sub.iterdir())} for user in sorted(store.root.iterdir())
    }


async def test_the_mail_steps_copy_the_lab_maildirs_by_identity(tmp_path: Path) -> None:
    async with Lab.start(tmp_path / "lab", speed=40) as lab, PlanDriver(lab.plan_path) as driver:
        old, new = lab.store("old"), lab.store("new")
        await more_mail(old, 5)
        assert set().union(*maildir_files(old).values()) == {"new"}, "the lab MTA delivers into new/ via tmp/"
        await driver.run_step(driver.step("inventory-old"))
        before = old.ids()
        await driver.run_step(driver.step("pre-copy"))
        copied = new.ids()
        assert set(before) <= set(copied) <= set(old.ids()) and set(copied.values()) == {1}

        await more_mail(old, old.ids().total())
        before = old.ids()
        await driver.run_step(driver.step("delta-sync"))
        after = new.ids()
        assert set(before) <= set(after) and set(after.values()) == {1}
        await driver.run_step(driver.step("delta-sync"))  # again: nothing is copied twice
        assert set(new.ids().values()) == {1}


async def test_a_careful_move_loses_nothing_and_a_missing_copy_is_seen_twice(tmp_path: Path) -> None:
    async with Lab.start(tmp_path / "lab", speed=20) as lab, PlanDriver(lab.plan_path) as driver:
        await driver.run()
        assert await lab.drain(LIMIT), f"{lab.pending} message(s) never delivered"
        figures = run_figures(driver.records)
        tally = lab.tally(figures)
        verdict = tally.verdict
        print(f"\ncareful move: {tally.line()}")
        assert (verdict.lost, verdict.duplicated, verdict.stranded, verdict.queued) == (0, 0, 0, 0)
        assert verdict.sent == verdict.old + verdict.new and verdict.moved == verdict.old
        assert verdict.old > 0 and verdict.new > 0
        assert tally.old_ttl == lab.pace.low_ttl and figures.delta_seconds is not None
        assert figures.downtime is not None and figures.downtime_over and figures.downtime_proven
        assert tally.floor == tally.old_ttl + figures.delta_seconds
        assert f"lost 0 · duplicated 0 · downtime {format_duration(figures.downtime)} (floor " in tally.line()

        # A message the move copied goes missing on new: the tally and the verify step both see it.
        moved = min(i for i, track in lab.tally_book.messages.items() if "old" in track.accepted_by)
        (copy,) = lab.store("new").paths_of(moved)
        copy.unlink()
        verdict = lab.tally(figures).verdict
        assert (verdict.lost, verdict.stranded, verdict.moved) == (1, 0, verdict.old - 1)
        await driver.run_step(driver.step("final-verify"), check=False)
        assert "1 missing" in driver.failures["final-verify"], driver.failures


async def test_a_reckless_move_strands_mail_on_old(tmp_path: Path) -> None:
    # Caches that hold the old MX for a few seconds, and enough senders that one of them still holds it.
    pace = Pace.at(1, normal_ttl=4, low_ttl=3, secondary_lag=0.3, dns_interval=0.1, senders=6,
                   sender_interval=0.1, backoff_first=0.1, backoff_max=0.5)  # fmt: skip
    async with Lab.start(tmp_path / "lab", pace=pace, reckless=True) as lab, PlanDriver(lab.plan_path) as driver:
        assert not {step.id for _, step in driver.plan.steps()} & RECKLESS_SKIPS
        await driver.run(until="delta-sync")
        # Mail keeps reaching old from the caches the skipped wait would have let expire.
        await asyncio.sleep(pace.low_ttl)
        await driver.run()
        assert await lab.drain(LIMIT)
        tally = lab.tally(run_figures(driver.records))
    verdict = tally.verdict
    print(f"\nreckless move: {tally.line()}")
    assert verdict.stranded >= 1 and verdict.lost == 0 and verdict.duplicated == 0
    assert f"lost 0 · duplicated 0 · stranded {verdict.stranded}" in tally.line()
    assert not verdict.clean
