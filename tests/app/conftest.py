"""The cockpit app on small plans: a real run of the engine on a fake clock, driven through Pilot."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from textual.pilot import Pilot

from cockpit.base.clock import FakeClock
from cockpit.engine.events import EventBus
from cockpit.engine.options import RunOptions
from cockpit.engine.run import PlanRun
from cockpit.engine.services import RunServices
from cockpit.engine.states import StepState
from cockpit.plan import parse_plan
from cockpit.ui.app import CockpitApp

HEAD = """\
version: 1
name: Move example.com mail from the old host to the new host
domains: [example.com]
nameservers:
  - {name: ns1.example.com, address: 127.0.0.1, port: 5301}
  - {name: ns2.example.com, address: 127.0.0.1, port: 5302}
mx:
  old: 10 mail.old.example.net.
  parking: 10 parked.new.example.net.
  new: 10 mail.new.example.net.
hosts:
  old: {address: 192.0.2.10, user: root}
  new: {address: 192.0.2.20, user: root, port: 2222}
phases:
"""

FOUR_NAMESERVERS = HEAD.replace(
    "  - {name: ns2.example.com, address: 127.0.0.1, port: 5302}\n",
    "  - {name: ns2.example.com, address: 127.0.0.1, port: 5302}\n"
    "  - {name: ns3.example.com, address: 127.0.0.1, port: 5303}\n"
    "  - {name: ns4.example.com, address: 127.0.0.1, port: 5304}\n",
)

BASIC = """\
  - name: before
    steps:
      - confirm: Lower the MX TTL to 600 s at the DNS host
        id: lower-ttl
      - countdown: 10m
        id: settle
      - port: {address: 127.0.0.1, port: 1, expect: closed}
        id: parking-refuses
  - name: during
    steps:
      - confirm: Point the MX at the parking address
        id: mx-to-parking
"""

FAILING = """\
  - name: after
    steps:
      - port: {address: 127.0.0.1, port: 1, expect: open}
        id: new-mta-listens
      - confirm: Tell the users
        id: tell-users
"""

IRREVERSIBLE = """\
  - name: during
    steps:
      - ssh: {host: old, run: "tar -cf /srv/move/mail.tar -C /var/mail ."}
        id: export-mail
      - confirm: Check the import
        id: check-import
"""

LONG_TITLES = """\
  - name: before-the-move-while-the-old-host-still-receives-all-mail
    steps:
      - confirm: Lower the MX TTL to 600 s at the DNS host, then wait for the old TTL to run out everywhere
        id: lower-ttl
      - ssh: {host: old, run: "tar -cf /srv/move/mail.tar -C /var/mail ."}
        title: Export every mailbox on the old host into one archive, keeping flags, folders and dates as they are
        id: export-mail
      - confirm: Tell the users that mail may arrive late for a few minutes during the switch over tonight
        id: tell-users
  - name: during
    steps:
      - confirm: Point the MX at the parking address that refuses with a temporary error so senders retry later
        id: mx-to-parking
      - confirm: Check the import
        id: check-import
"""


@dataclass
class Cockpit:
    app: CockpitApp
    run: PlanRun
    clock: FakeClock
    bus: EventBus


@pytest.fixture
def cockpit(tmp_path: Path) -> Callable[..., Cockpit]:
    """Build the app on a plan made of `head` and the given phases; options go to RunOptions.

    The run's own DNS watcher stays off unless `watch_dns` (tests feed the nameservers pane themselves); the
    hosts are logged in to before the first change only with `verify_hosts` (most plans here name fake ones).
    """

    def build(
        phases: str = BASIC,
        initial: dict[str, tuple[StepState, int, str]] | None = None,
        *,
        head: str = HEAD,
        watch_dns: bool = False,
        verify_hosts: bool = False,
        **options: object,
    ) -> Cockpit:
        plan = parse_plan(head + phases, "test.yaml")
        clock = FakeClock()
        bus = EventBus()
        services = RunServices(plan, tmp_path, clock, bus, watch_dns=watch_dns, verify_hosts_first=verify_hosts)
        run = PlanRun(
            plan,
            plan_sha256="0" * 64,
            base_dir=tmp_path,
            clock=clock,
            bus=bus,
            services=services,
            options=RunOptions(**options),  # type: ignore[arg-type]
            initial=initial,
        )
        return Cockpit(CockpitApp(run), run, clock, bus)

    return build


async def until(pilot: Pilot[int], check: Callable[[], bool], what: str = "condition", *, rounds: int = 400) -> None:
    """Let the app and the run work until `check` holds (no wall-clock assertions, just a bound on rounds)."""
    for _ in range(rounds):
        if check():
            await pilot.pause()
            return
        await pilot.pause(0.01)
    raise AssertionError(f"{what} never became true")


def asking(run: PlanRun, step_id: str, kind: str | None = None) -> Callable[[], bool]:
    def check() -> bool:
        prompt = run.prompt
        return (
            prompt is not None
            and not prompt.answer.done()
            and prompt.step_id == step_id
            and (kind is None or prompt.kind.value == kind)
        )

    return check
