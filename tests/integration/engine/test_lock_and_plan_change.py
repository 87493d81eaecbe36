"""One cockpit per plan, and a journal that belongs to one version of the plan: a second cockpit is refused
while the first runs; a resume of an edited plan is refused with both hashes unless the operator accepts the
change; `--fresh` archives the journal and starts over."""

from __future__ import annotations

import hashlib
import signal
import time

from cockpit.engine.journal import journal_path
from cockpit.engine.lock import lock_is_free
from cockpit.engine.resume import resume_point
from cockpit.engine.states import StepState
from tests.integration.engine.child import Child, eventually, lock_holder, records, wait_record
from tests.integration.engine.conftest import MethodLab, cockpit

PHASES = """\
  - name: only
    steps:
      - ssh: {host: old, run: "echo one >> ran.log"}
        id: one
      - ssh: {host: old, run: "echo slow-started >> ran.log; sleep 30; echo slow >> ran.log"}
        id: slow
        idempotent: true
      - ssh: {host: old, run: "echo two >> ran.log"}
        id: two
"""


async def test_second_cockpit_refused_then_plan_change_refused_accepted_and_fresh(method_lab: MethodLab) -> None:
    plan = method_lab.write_plan(PHASES)
    journal = journal_path(plan)
    lock = journal.with_suffix(".lock")
    log = method_lab.old.sandbox / "ran.log"

    first = await Child.start("run", str(plan), "--headless", "--yes", cwd=method_lab.root)
    await wait_record(journal, lambda r: r.get("type") == "StepIntent" and r.get("step_id") == "slow", first)
    await eventually(lambda: log.exists() and "slow-started" in log.read_text(), "the slow step has started")
    assert lock_holder(lock)["pid"] == first.pid

    # A second cockpit on the same plan: one line naming the holder, exit 2, nothing touched.
    before = journal.read_bytes()
    for extra in ((), ("--fresh",)):
        second = await cockpit("run", str(plan), "--headless", "--yes", *extra, cwd=method_lab.root)
        assert second.code == 2, second.stdout + second.stderr
        assert second.stdout == ""
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1, second.stderr
        assert "already being run by" in lines[0] and f"pid {first.pid} " in lines[0], lines[0]
        assert f"`cockpit observe {plan.resolve()}`" in lines[0] and " (since " in lines[0], lines[0]
        assert "Traceback" not in second.stderr
    assert journal.read_bytes()[: len(before)] == before
    assert not list(journal.parent.glob("plan.yaml.journal.*")), "a refused --fresh archived nothing"
    assert lock_holder(lock)["pid"] == first.pid

    first.signal(signal.SIGTERM)
    assert await first.wait() == 143, first.out + first.err
    assert lock_is_free(lock) and lock_holder(lock) == {}
    original_sha = hashlib.sha256(plan.read_bytes()).hexdigest()
    assert records(journal)[0]["plan_sha256"] == original_sha

    # Edit the plan: the resume is refused, showing both hashes, and changes nothing.
    plan.write_text(plan.read_text().replace("sleep 30; echo slow", "echo slow"))
    edited_sha = hashlib.sha256(plan.read_bytes()).hexdigest()
    stopped_journal = journal.read_bytes()
    refused = await cockpit("run", str(plan), "--headless", "--yes", cwd=method_lab.root)
    assert refused.code == 2, refused.stdout + refused.stderr
    assert refused.stdout == ""
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, refused.stderr
    assert original_sha[:12] in lines[0] and edited_sha[:12] in lines[0], lines[0]
    assert "--accept-plan-change" in lines[0] and "--fresh" in lines[0]
    assert journal.read_bytes() == stopped_journal
    assert lock_is_free(lock) and lock_holder(lock) == {}, "a refused run releases the lock it took"

    # Accepted: the resume goes on from where it stopped; the done step is not run again.
    accepted = await cockpit("run", str(plan), "--headless", "--yes", "--accept-plan-change", cwd=method_lab.root)
    assert accepted.code == 0, accepted.stdout + accepted.stderr
    assert "resuming '" in accepted.stdout
    assert "[slow] rerun by --yes" in accepted.stdout
    assert log.read_text().split() == ["one", "slow-started", "slow-started", "slow", "two"]
    point = resume_point(records(journal))
    assert {s: st for s, (st, _, _) in point.states.items()} == dict.fromkeys(("one", "slow", "two"), StepState.DONE)

    # --fresh: the old journal is archived whole, and the run starts over from the first step.
    old_records = records(journal)
    fresh = await cockpit("run", str(plan), "--headless", "--yes", "--fresh", cwd=method_lab.root)
    assert fresh.code == 0, fresh.stdout + fresh.stderr
    archives = list(journal.parent.glob("plan.yaml.journal.*"))
    assert len(archives) == 1, archives
    assert f"archived the previous journal as {archives[0].name}" in fresh.stdout
    assert records(archives[0]) == old_records
    new_records = records(journal)
    started = [r for r in new_records if r.get("type") == "RunStarted"]
    assert len(started) == 1 and started[0]["resumed"] is False and started[0]["plan_sha256"] == edited_sha
    assert "starting '" in fresh.stdout
    assert log.read_text().split() == [
        *["one", "slow-started", "slow-started", "slow", "two"],
        *["one", "slow-started", "slow", "two"],
    ]


async def test_fresh_never_overwrites_an_earlier_archive(method_lab: MethodLab) -> None:
    plan = method_lab.write_plan(PHASES.replace("sleep 30; ", ""))
    journal = journal_path(plan)
    first = await cockpit("run", str(plan), "--headless", "--yes", cwd=method_lab.root)
    assert first.code == 0, first.stdout + first.stderr
    # Archives named for this second and the next few already exist (a --fresh a moment ago, say).
    now = time.time()
    taken = {journal.with_name(f"{journal.name}.{time.strftime('%Y%m%d-%H%M%S', time.localtime(now + d))}")
             for d in range(-1, 6)}  # fmt: skip
    for path in taken:
        path.write_text("an earlier archive\n")
    fresh = await cockpit("run", str(plan), "--headless", "--yes", "--fresh", cwd=method_lab.root)
    assert fresh.code == 0, fresh.stdout + fresh.stderr
    for path in taken:
        assert path.read_text() == "an earlier archive\n", f"{path.name} was overwritten"
    archives = set(journal.parent.glob("plan.yaml.journal.*")) - taken
    assert len(archives) == 1, archives
    (archive,) = archives
    assert f"archived the previous journal as {archive.name}" in fresh.stdout
    assert records(archive)[0]["type"] == "RunStarted"
