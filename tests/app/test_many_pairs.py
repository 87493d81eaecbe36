"""The nameservers pane of a plan with many pairs: counts per MX state and the pairs that lag behind the state
the MX moves to, failing ones first; `/` in the pane filters every pair by domain or nameserver; the selected
pair's details below. Fed with rounds built by the DNS layer's own classification (dns_rounds.py)."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Input, Static

from cockpit.dns import Status
from cockpit.engine.events import Event
from cockpit.ui.panes.ns_many import ManyPairsPane
from cockpit.ui.panes.ns_table import PairTable

from .conftest import HEAD, Cockpit, asking, until
from .dns_rounds import OLD, PARKING, SERIAL, Rounds, answer, failure

Build = Callable[..., Cockpit]
DOMAINS = [f"d{n:02d}.example" for n in range(40)]
MANY = HEAD.replace("domains: [example.com]", "domains: [" + ", ".join(DOMAINS) + "]")


def shown(pane: ManyPairsPane, selector: str) -> str:
    return str(pane.query_one(selector, Static).render())


def publish(c: Cockpit, events: list[Event]) -> None:
    for event in events:
        c.bus.publish(event)


async def test_many_pairs_are_counted_and_the_laggards_listed_failing_first(cockpit: Build) -> None:
    c = cockpit(head=MANY)
    rounds = Rounds(c.run.plan)
    start = c.clock.now()
    async with c.app.run_test(size=(120, 40)) as pilot:
        await until(pilot, asking(c.run, "lower-ttl"))
        pane = c.app.cockpit_screen.query_one(ManyPairsPane)
        assert shown(pane, "#ns-summary").startswith("80 pairs · 40 domains")
        publish(c, rounds.round([answer(n, OLD, start, domain=d) for d in DOMAINS for n in (1, 2)], start))
        await until(pilot, lambda: "old 80 (40 domains all)" in shown(pane, "#ns-summary"), "every pair on old")
        assert "every pair serves old" in shown(pane, "#ns-lag-title")

        # ns1 serves parking for every domain; ns2 for all but three, and times out for one of those.
        at = start + 30
        second = [answer(1, PARKING, at, domain=d, serial=SERIAL + 1) for d in DOMAINS]
        second += [answer(2, PARKING, at, domain=d, serial=SERIAL + 1) for d in DOMAINS[3:]]
        second += [answer(2, OLD, at, domain=d) for d in DOMAINS[1:3]]
        second.append(failure(2, Status.TIMEOUT, at, "no answer within 3s", domain=DOMAINS[0]))
        await c.clock.advance(30)
        publish(c, rounds.round(second, at))
        await until(pilot, lambda: "3 pairs not on parking yet" in shown(pane, "#ns-lag-title"), "the laggards")
        summary = shown(pane, "#ns-summary")
        assert "parking 77 (37 domains all)" in summary and "old 2 (0 domains all)" in summary
        assert "failing 1" in summary
        table = pane.query_one(PairTable)
        assert [line.label for line in table.lines] == [
            "d00.example @ns2.example.com:5302", "d01.example @ns2.example.com:5302", "d02.example @ns2.example.com:5302",
        ]  # fmt: skip
        assert "timeout" in shown(pane, "#ns-detail")

        # `/` in the pane filters every pair; Esc clears it.
        table.focus()
        await pilot.press("slash")
        field = pane.query_one("#ns-filter", Input)
        assert field.has_focus
        await pilot.press(*"d07")
        await until(pilot, lambda: len(table.lines) == 2, "the filter's pairs")
        assert {line.label for line in table.lines} == {"d07.example @ns1.example.com:5301",
                                                        "d07.example @ns2.example.com:5302"}  # fmt: skip
        await pilot.press("escape")
        await until(pilot, lambda: len(table.lines) == 3, "the laggards again")

        # The last three arrive: the convergence is said once, and nothing lags.
        at = start + 60
        await c.clock.advance(30)
        third = [answer(n, PARKING, at, domain=d, serial=SERIAL + 1) for d in DOMAINS for n in (1, 2)]
        publish(c, rounds.round(third, at))
        await until(pilot, lambda: "every pair serves parking" in shown(pane, "#ns-lag-title"), "converged")
        assert "parking 80 (40 domains all) ✓" in shown(pane, "#ns-summary")
        assert not table.lines
