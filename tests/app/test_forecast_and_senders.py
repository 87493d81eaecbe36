"""The forecast and the senders' view on screen: before the downtime the header shows the forecast and the
phase where it starts carries it, each counted step says its part; once a nameserver leaves the first MX state
the header shows the projected end and the countdown pane, with no countdown running, becomes the senders'
view (how long mail has been deferred, when common MTAs try again)."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Label

from cockpit.engine.events import DnsFlip, ForecastMade
from cockpit.ui.panes.checklist_pane import ChecklistPane
from cockpit.ui.panes.countdown_pane import CountdownPane
from cockpit.ui.panes.header_bar import HeaderBar

from .conftest import Cockpit, asking, until

Build = Callable[..., Cockpit]

BY_HAND = """\
  - name: before
    steps:
      - confirm: Lower the MX TTL
        id: lower-ttl
  - name: during
    steps:
      - confirm: Point the MX at the parking address
        id: to-parking
      - wait_dns: {mx: parking}
        id: parked
      - countdown: 10m
        id: settle
      - confirm: Point the MX at the new host
        id: to-new
      - wait_dns: {mx: new}
        id: on-new
"""


def header_text(c: Cockpit) -> str:
    return str(c.app.cockpit_screen.query_one("#header-downtime", Label).render())


async def test_forecast_in_the_header_and_the_phase_then_the_senders_view_while_parked(cockpit: Build) -> None:
    c = cockpit(BY_HAND)
    async with c.app.run_test(size=(100, 32)) as pilot:
        await until(pilot, asking(c.run, "lower-ttl"))
        made = ForecastMade(c.clock.now(), 620.0, (
            ("to-parking", "your confirmation", None, "the operator's own pace"),
            ("parked", "parking convergence", 20.0, "the slowest nameserver's lag seen so far"),
            ("settle", "wait", 600.0, "a fixed wait"),
        ))  # fmt: skip
        c.bus.publish(made)
        await until(pilot, lambda: "forecast" in header_text(c), "the forecast in the header")
        assert header_text(c) == "forecast 10m20s+?"
        steps = c.app.cockpit_screen.query_one(ChecklistPane)
        assert "during · downtime forecast 10m20s+?" in str(steps.step_list.get_option("phase:during").prompt)
        assert "forecast: wait 10m — a fixed wait" in str(steps.describe("settle"))

        pane = c.app.cockpit_screen.query_one(CountdownPane)
        assert not pane.has_class("-parked")
        for ns in ("ns1.example.com:5301", "ns2.example.com:5302"):
            c.bus.publish(DnsFlip(c.clock.now(), "example.com", ns, "old", "parking", 600))
        await c.clock.advance(180)
        await until(pilot, lambda: pane.has_class("-parked"), "the senders' view")
        assert pane.border_title == "Senders' view"
        senders = str(pane.query_one("#countdown-senders", Label).render())
        assert senders.startswith("deferred 3m since ") and "next retries: Postfix" in senders
        assert "after the flip a sender may wait up to 15m (Exim)" in senders
        assert header_text(c).startswith("downtime 00:03:00 · ends ~")
        assert c.app.cockpit_screen.query_one(HeaderBar).has_class("-downtime")
