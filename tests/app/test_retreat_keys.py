"""The keys outside the step order, on a real run: P parks the MX through the plan's own dynamic-update route
(a real nameserver with a TSIG key), u undoes the selected dns_update step, Enter on a done step reruns it.
Each asks first and shows what will change; Esc changes nothing."""

from __future__ import annotations

import base64
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import dns.rdatatype
import pytest
from textual.widgets import Static

from cockpit.base.clock import SystemClock
from cockpit.engine.events import Event, EventBus, Retreat
from cockpit.engine.journal import JournalWriter
from cockpit.engine.options import RunOptions
from cockpit.engine.run import PlanRun
from cockpit.engine.services import RunServices
from cockpit.engine.states import StepState
from cockpit.lab.dns_zone import LabZone
from cockpit.lab.nameserver import LabNameserver, tsig_key
from cockpit.plan import parse_plan
from cockpit.ui.app import CockpitApp
from cockpit.ui.dialogs.confirm_screen import ConfirmScreen
from cockpit.ui.panes.step_list import StepList

from .conftest import Cockpit, asking, until

Build = Callable[..., Cockpit]
SECRET = base64.b64encode(b"app-retreat-secret-0123456789abc").decode()
PARKED = "127.0.0.11"


def dialog(app: CockpitApp) -> str:
    screen = app.screen
    assert isinstance(screen, ConfirmScreen)
    return screen.title_text + " " + " ".join(str(widget.visual) for widget in screen.query(Static))


@dataclass
class Keys:
    app: CockpitApp
    run: PlanRun
    ns: LabNameserver
    events: list[Event]

    def served(self) -> str:
        zone = self.ns.zone("example.com")
        return " ".join(r.to_text() for r in zone.rrsets[(zone.origin, dns.rdatatype.MX)])


@pytest.fixture
async def keys(tmp_path: Path) -> AsyncIterator[Keys]:
    zone = LabZone.build("example.com", mx=[(10, "mail.old.example.net.")], mx_ttl=1,
                         addresses={"ns1": "127.0.0.1", "parked": PARKED})  # fmt: skip
    (tmp_path / "tsig.key").write_text(f'key "k" {{\n\talgorithm hmac-sha256;\n\tsecret "{SECRET}";\n}};\n')
    with socket.socket() as sock:
        sock.bind((PARKED, 0))
        smtp_port = sock.getsockname()[1]
    async with LabNameserver([zone], keys=[tsig_key("k", SECRET)]) as ns:
        text = f"""\
version: 1
name: Keys outside the order
domains: [example.com]
nameservers: [{{name: ns1.example.com, address: 127.0.0.1, port: {ns.port}}}]
dns: {{interval: 200ms, timeout: 1s}}
ttl: 1
mx:
  old: 10 mail.old.example.net.
  parking: 10 parked.example.com.
  new: 10 mail.new.example.net.
secrets:
  dnskey: {{file: tsig.key}}
phases:
  - name: during
    steps:
      - dns_update: {{server: "127.0.0.1:{ns.port}", key: dnskey, mx: parking}}
        id: to-parking
      - canary: {{expect: refused, port: {smtp_port}}}
        id: refuses
      - confirm: Tell the users
        id: tell-users
"""
        plan = parse_plan(text, "keys.yaml")
        clock, bus = SystemClock(), EventBus()
        journal = JournalWriter(tmp_path / ".cockpit" / "keys.yaml.journal")
        bus.subscribe(journal, first=True)
        events: list[Event] = []
        bus.subscribe(events.append)
        services = RunServices(plan, tmp_path, clock, bus, state_prefix=tmp_path / ".cockpit" / "keys.yaml",
                               verify_hosts_first=False)  # fmt: skip
        run = PlanRun(plan, plan_sha256="0" * 64, base_dir=tmp_path, clock=clock, bus=bus, services=services,
                      options=RunOptions())  # fmt: skip
        try:
            yield Keys(CockpitApp(run), run, ns, events)
        finally:
            await services.close()
            journal.close()


async def test_p_asks_what_parking_changes_then_parks_through_the_plans_route(keys: Keys) -> None:
    async with keys.app.run_test(size=(100, 30)) as pilot:
        await until(pilot, asking(keys.run, "to-parking"))
        await pilot.press("P")
        await until(pilot, lambda: isinstance(keys.app.screen, ConfirmScreen), "the park question")
        text = dialog(keys.app)
        assert "Park the MX now?" in text
        assert "the MX of example.com → parking (10 parked.example.com.) by dynamic update to 127.0.0.1:" in text
        await pilot.press("escape")
        assert keys.served() == "10 mail.old.example.net.", "Esc changes nothing"

        await pilot.press("P", "y")
        await until(pilot, lambda: any(isinstance(e, Retreat) for e in keys.events), "the park ends", rounds=2000)
        assert [(e.action, e.outcome) for e in keys.events if isinstance(e, Retreat)] == [("park", "done")]
        assert keys.served() == "10 parked.example.com."
        assert keys.run.steps["to-parking"].state == StepState.READY, "the run's own step waits"
        assert asking(keys.run, "to-parking")()


async def test_u_undoes_the_selected_dns_update_and_enter_on_a_done_step_reruns_it(keys: Keys) -> None:
    async with keys.app.run_test(size=(100, 30)) as pilot:
        await until(pilot, asking(keys.run, "to-parking"))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(keys.app.screen, ConfirmScreen), "the step's confirmation")
        await pilot.press("y")
        await until(pilot, asking(keys.run, "refuses"), rounds=2000)
        assert keys.served() == "10 parked.example.com."

        steps = keys.app.cockpit_screen.query_one(StepList)
        await pilot.press("k")
        assert steps.selected_step == "to-parking"
        await pilot.press("u")
        await until(pilot, lambda: isinstance(keys.app.screen, ConfirmScreen), "the undo question")
        assert "undo to-parking: the MX of example.com back to 10 mail.old.example.net." in dialog(keys.app)
        await pilot.press("y")
        await until(pilot, lambda: any(isinstance(e, Retreat) for e in keys.events), "the undo ends", rounds=2000)
        assert keys.served() == "10 mail.old.example.net."

        await pilot.press("enter")  # on the done to-parking step: rerun it, not the proposed canary
        await until(pilot, lambda: isinstance(keys.app.screen, ConfirmScreen), "the rerun question")
        text = dialog(keys.app)
        assert "Rerun to-parking (done)?" in text and "The run's next step stays refuses" in text
        await pilot.press("y")
        await until(pilot, lambda: keys.run.steps["to-parking"].attempt == 2 and keys.run.side.busy() is None,
                    "the rerun ends", rounds=2000)  # fmt: skip
        assert keys.run.steps["to-parking"].state == StepState.DONE
        assert keys.served() == "10 parked.example.com."
        await until(pilot, asking(keys.run, "refuses"), "the run asks its own step again")


async def test_enter_on_a_done_step_asks_before_rerunning_and_esc_leaves_it(cockpit: Build) -> None:
    c = cockpit()
    async with c.app.run_test() as pilot:
        await until(pilot, asking(c.run, "lower-ttl", "confirm"))
        await pilot.press("enter")
        await until(pilot, asking(c.run, "settle", "gate"))
        await pilot.press("k", "enter")
        await until(pilot, lambda: isinstance(c.app.screen, ConfirmScreen), "the rerun question")
        assert "Rerun lower-ttl (done)?" in dialog(c.app)
        await pilot.press("escape")
        assert c.run.steps["lower-ttl"].attempt == 1 and asking(c.run, "settle", "gate")()

        await pilot.press("enter", "y")  # a confirm step reruns by asking its question again
        await until(pilot, asking(c.run, "lower-ttl", "confirm"), "the rerun's own question")
        await pilot.press("enter")
        await until(pilot, asking(c.run, "settle", "gate"), "the run's question again")
        assert c.run.steps["lower-ttl"].state == StepState.DONE and c.run.steps["lower-ttl"].attempt == 2
