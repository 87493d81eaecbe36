"""What `cockpit run` and `cockpit demo` share: opening a run of a plan file (lock, journal, services)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cockpit.base.clock import SystemClock
from cockpit.commands.common import say
from cockpit.engine.events import EventBus, Listener
from cockpit.engine.journal import JournalError
from cockpit.engine.options import RunOptions
from cockpit.engine.services import RunServices
from cockpit.engine.session import Session, SessionRefused, open_session
from cockpit.plan import PlanFile
from cockpit.ssh import PassphrasePrompt


@dataclass
class OpenRun:
    clock: SystemClock
    bus: EventBus
    services: RunServices
    session: Session


def open_run(
    plan_file: PlanFile,
    options: RunOptions,
    *,
    command: str,
    fresh: bool = False,
    accept_plan_change: bool = False,
    passphrase: PassphrasePrompt | None = None,
    listeners: Sequence[Listener] = (),
) -> OpenRun | None:
    """The run's clock, bus, services and session (lock taken, journal open); None after saying on one line
    why it cannot start. `listeners` hear the session's own notices (a stale lock taken over)."""
    clock = SystemClock()
    bus = EventBus()
    for listener in listeners:
        bus.subscribe(listener)
    services = RunServices(plan_file.plan, plan_file.path.resolve().parent, clock, bus, passphrase=passphrase)
    try:
        session = open_session(plan_file, options=options, clock=clock, bus=bus, services=services, fresh=fresh,
                               accept_plan_change=accept_plan_change)  # fmt: skip
    except (SessionRefused, JournalError) as exc:
        say(f"cockpit {command}: {exc}", err=True)
        return None
    services.resume_from(session.resume)
    if session.journal is not None:
        services.state_prefix = session.journal.path.with_suffix("")
    return OpenRun(clock, bus, services, session)
