"""Opening a run of a plan file: the lock, the journal (fresh, resumed or archived), and the plan check.

Everything that can refuse a run does so here, before any step starts, with one line saying what to do.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from cockpit.base.clock import Clock
from cockpit.engine.control import ControlServer, control_path
from cockpit.engine.events import EventBus, Notice
from cockpit.engine.journal import (
    JournalError,
    JournalWriter,
    adopt_legacy_journal,
    cut_torn_tail,
    journal_path,
    read_journal,
)
from cockpit.engine.lock import LockHeld, PlanLock, describe_stale
from cockpit.engine.options import RunOptions
from cockpit.engine.rehearsal import earlier_journals
from cockpit.engine.resume import PlanChangeRefused, ResumePoint, resume_point
from cockpit.engine.run import PlanRun
from cockpit.engine.services import RunServices
from cockpit.plan import PlanFile


class SessionRefused(Exception):
    """The run cannot start; the message is the one line to show."""


@dataclass
class Session:
    """A run with its journal and lock; `close()` releases both whatever happened."""

    run: PlanRun
    journal: JournalWriter | None
    lock: PlanLock | None
    resume: ResumePoint

    def close(self) -> None:
        if self.run.control is not None:
            self.run.control.close()
        try:
            if self.journal is not None:
                self.journal.close()
        finally:
            if self.lock is not None:
                self.lock.release()


def open_session(
    plan_file: PlanFile,
    *,
    options: RunOptions,
    clock: Clock,
    bus: EventBus,
    services: RunServices,
    fresh: bool = False,
    accept_plan_change: bool = False,
) -> Session:
    """Lock the plan, read its journal, and return a run ready to start (or resume)."""
    base_dir = plan_file.path.resolve().parent
    if options.dry_run:
        run = PlanRun(plan_file.plan, plan_sha256=plan_file.sha256, base_dir=base_dir, clock=clock, bus=bus,
                      services=services, options=options)  # fmt: skip
        return Session(run, None, None, ResumePoint())
    path = journal_path(plan_file.path)
    lock = PlanLock(path.with_suffix(".lock"))
    try:
        lock.acquire()
    except LockHeld as exc:
        raise SessionRefused(str(exc)) from None
    except OSError as exc:
        raise SessionRefused(f"cannot create the lock beside the plan ({path.parent}): {exc.strerror}") from None
    try:
        adopted = adopt_legacy_journal(plan_file.path, plan_file.sha256)
        if adopted is not None:
            bus.publish(Notice(clock.now(), "info", f"renamed the journal {adopted.name} to {path.name}"))
        if fresh and path.exists():
            stamp = f"{path.name}.{time.strftime('%Y%m%d-%H%M%S', time.localtime(clock.now()))}"
            archived, number = path.with_name(stamp), 1
            while archived.exists():  # never replace an earlier archive (two --fresh in one second)
                archived, number = path.with_name(f"{stamp}-{number}"), number + 1
            path.rename(archived)
            bus.publish(Notice(clock.now(), "info", f"archived the previous journal as {archived.name}"))
        contents = read_journal(path)
        cut = cut_torn_tail(path, contents, time.strftime("%Y%m%d-%H%M%S", time.localtime(clock.now())))
        point = resume_point(contents.records)
        if point.plan_sha256 is not None and point.plan_sha256 != plan_file.sha256 and not accept_plan_change:
            raise SessionRefused(
                f"{plan_file.path} changed since the journal's last run (journal plan sha256 "
                f"{point.plan_sha256[:12]}, now {plan_file.sha256[:12]}): use --accept-plan-change to resume with "
                "each step's state carried over by its id or content, or --fresh to start over"
            )
        try:
            point = point.for_plan(plan_file.plan)
        except PlanChangeRefused as exc:
            raise SessionRefused(f"{plan_file.path}: {exc}") from None
        journal = JournalWriter(path, records=len(contents.records))
    except (JournalError, SessionRefused):
        lock.release()
        raise
    except OSError as exc:
        lock.release()
        raise SessionRefused(f"cannot open the journal {path}: {exc.strerror}") from None
    bus.subscribe(journal, first=True)  # on disk before any face shows it
    if lock.took_over:
        bus.publish(Notice(clock.now(), "warning", describe_stale(lock.took_over)))
    if point.dropped:
        gone = ", ".join(point.dropped)
        bus.publish(Notice(clock.now(), "warning", f"the edited plan no longer has these journaled steps: {gone}"))
    if cut is not None:
        text = f"cut a torn last record from the journal (a crash mid-write); the cut bytes are kept in {cut.name}"
        bus.publish(Notice(clock.now(), "warning", text))
    run = PlanRun(plan_file.plan, plan_sha256=plan_file.sha256, base_dir=base_dir, clock=clock, bus=bus,
                  services=services, options=options, initial=point.states)  # fmt: skip
    journal.on_failure = run.journal_failed
    run.forecast.load(contents.records, earlier_journals(path))
    run.control = ControlServer(control_path(path), run.side.handle_request)
    return Session(run, journal, lock, point)
