"""The nameservers pane fed by real DNS rounds: rows per pair updated in place, every failure status shown
and never counted, the convergence line, `g` through the engine's own watcher, and no line wider than
the pane."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from cockpit.dns import DnsWatcher, Pair, Server, Status
from cockpit.engine.events import DnsFlip, DnsRound
from cockpit.lab.dns_zone import LabZone
from cockpit.lab.nameserver import Behaviour, LabNameserver
from cockpit.ui.panes.column_fit import COLUMNS, fit_columns, render_lines
from cockpit.ui.panes.header_bar import HeaderBar
from cockpit.ui.panes.nameservers_pane import NameserversPane, PairRow

from .conftest import FOUR_NAMESERVERS, HEAD, Cockpit, asking, until
from .dns_rounds import OLD, PARKING, SERIAL, Rounds, answer, failure, mixed_state

Build = Callable[..., Cockpit]
OLD_MX = [(10, "mail.old.example.net.")]
PARKING_MX = [(10, "parked.new.example.net.")]


@pytest.fixture
async def labs() -> AsyncIterator[list[LabNameserver]]:
    """Two authoritative servers for example.com on loopback, on ports the OS picks."""
    servers = [LabNameserver([LabZone.build("example.com", mx=OLD_MX, mx_ttl=600, serial=SERIAL)]) for _ in range(2)]
    for server in servers:
        await server.start()
    yield servers
    for server in servers:
        await server.stop()


def head_for(labs: list[LabNameserver]) -> str:
    """The test plan's head with its two nameservers on the lab servers' ports."""
    return HEAD.replace("port: 5301", f"port: {labs[0].port}").replace("port: 5302", f"port: {labs[1].port}")


def pane_of(c: Cockpit) -> NameserversPane:
    return c.app.cockpit_screen.query_one(NameserversPane)


def text_of(row: PairRow) -> str:
    return "\n".join(line.plain for line in row.shown)


async def test_a_real_watcher_fills_the_rows_and_updates_them_in_place(
    cockpit: Build, labs: list[LabNameserver]
) -> None:
    c = cockpit(head=head_for(labs))
    pairs = [Pair("example.com", Server("127.0.0.1", lab.port, f"ns{n}.example.com")) for n, lab in enumerate(labs, 1)]
    watcher = DnsWatcher(pairs, states=c.run.plan.mx_states, timeout=0.3, clock=c.clock)
    try:
        async with c.app.run_test(size=(120, 40)) as pilot:
            await until(pilot, asking(c.run, "lower-ttl"))
            pane = pane_of(c)
            first_rows = list(pane.query(PairRow))
            assert [row.line.status for row in first_rows] == [None, None]

            c.bus.publish(DnsRound(c.clock.now(), await watcher.poll_round()))
            await until(pilot, lambda: pane.converged.get("example.com") == "old", "every pair serves old")
            one, two = (pane.rows[("example.com", pair.server.label)] for pair in pairs)
            for row in (one, two):
                assert row.line.status is Status.OK and row.line.ttl == 600 and row.line.serial == SERIAL
                assert "old" in text_of(row) and "10 mail.old.example.net." in text_of(row)

            labs[0].set_mx("example.com", PARKING_MX, 600)
            labs[1].behave(Behaviour.SILENT)
            await c.clock.advance(60)
            c.bus.publish(DnsRound(c.clock.now(), await watcher.poll_round()))
            await until(pilot, lambda: one.line.state == "parking", "ns1 serves parking")
            await c.clock.advance(65)
            pane.tick(c.clock.now())
            await pilot.pause()

            assert list(pane.query(PairRow)) == first_rows, "rows are updated, never re-created"
            assert [one, two] == first_rows
            assert one.line.serial == SERIAL + 1
            assert (
                "parking" in text_of(one) and "1m5s ago" in text_of(one) and "parked.new.example.net." in text_of(one)
            )
            assert two.line.status is Status.TIMEOUT and two.line.state is None
            assert two.has_class("-failed") and "timeout" in text_of(two) and "no answer within 0.3s" in text_of(two)
            convergence = str(pane.query_one("#ns-convergence").render())
            assert convergence == "example.com: parking 1/2 · timeout 1/2"
            assert pane.converged["example.com"] is None
    finally:
        await watcher.close()


@pytest.mark.parametrize(
    "status", [status for status in Status if status is not Status.OK], ids=lambda status: status.value
)
async def test_every_failure_status_is_shown_as_itself_and_never_counted(cockpit: Build, status: Status) -> None:
    c = cockpit(head=FOUR_NAMESERVERS)
    async with c.app.run_test(size=(120, 40)) as pilot:
        await until(pilot, asking(c.run, "lower-ttl"))
        pane = pane_of(c)
        now = c.clock.now()
        rounds = Rounds(c.run.plan)
        events = rounds.round([*(answer(n, PARKING, now) for n in (1, 2, 3)), failure(4, status, now, "why")], now)
        for event in events:
            c.bus.publish(event)
        await until(pilot, lambda: pane.round == 1, "round shown")
        row = pane.rows[("example.com", "ns4.example.com:5304")]
        assert row.line.state is None
        assert text_of(row).split()[1:3] == ["—", status.value]
        assert row.has_class("-failed") == (not status.authoritative)
        convergence = str(pane.query_one("#ns-convergence").render())
        assert convergence == f"example.com: parking 3/4 · {status.value} 1/4"
        assert pane.converged["example.com"] is None


async def test_g_polls_through_the_runs_own_watcher(cockpit: Build, labs: list[LabNameserver]) -> None:
    c = cockpit(head=head_for(labs), watch_dns=True)
    bells: list[int] = []
    try:
        async with c.app.run_test(size=(80, 24)) as pilot:
            c.app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
            await until(pilot, asking(c.run, "lower-ttl"))
            pane = pane_of(c)
            rows = list(pane.query(PairRow))
            await until(pilot, lambda: pane.converged.get("example.com") == "old", "first round shown")
            queries = sum(lab.queries for lab in labs)

            for row, lab in zip(rows, labs, strict=True):
                lab.set_mx("example.com", PARKING_MX, 600)
                await pilot.press("g")
                await until(pilot, lambda row=row: row.line.state == "parking", "g polled")  # type: ignore[misc]
            assert pane.converged.get("example.com") == "parking"

            assert sum(lab.queries for lab in labs) > queries, "g asked the nameservers again"
            assert list(pane.query(PairRow)) == rows
            assert bells, "converging on a new state rings"
            assert c.app.cockpit_screen.query_one(HeaderBar).has_class("-downtime")
    finally:
        await c.run.services.close()  # type: ignore[attr-defined]


async def test_dns_flips_update_rows_and_start_the_downtime_clock(cockpit: Build) -> None:
    c = cockpit()
    bells: list[int] = []
    async with c.app.run_test(size=(120, 40)) as pilot:
        c.app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
        await until(pilot, asking(c.run, "lower-ttl"))
        pane = pane_of(c)
        for ns in ("ns1.example.com:5301", "ns2.example.com:5302"):
            c.bus.publish(DnsFlip(c.clock.now(), "example.com", ns, None, "old", 600))
        await until(pilot, lambda: pane.converged.get("example.com") == "old")
        assert not bells  # the first answers are no news
        c.bus.publish(DnsFlip(c.clock.now(), "example.com", "ns1.example.com:5301", "old", "parking", 600))
        await until(pilot, lambda: c.app.screen.query_one(HeaderBar).has_class("-downtime"), "downtime shown")
        one = pane.rows[("example.com", "ns1.example.com:5301")]
        assert one.line.state == "parking" and "10 parked.new.example.net." in text_of(one)
        await c.clock.advance(65)
        c.bus.publish(DnsFlip(c.clock.now(), "example.com", "ns2.example.com:5302", "old", "parking", 600))
        await until(pilot, lambda: pane.converged.get("example.com") == "parking")
        assert bells
        assert len(pane.query(PairRow)) == 2
        header = c.app.screen.query_one(HeaderBar)
        assert "downtime 00:01:05" in str(header.query_one("#header-downtime").render())


async def test_rows_the_watcher_names_otherwise_replace_the_plans_guesses(cockpit: Build) -> None:
    """A plan nameserver given by name may resolve to several addresses: the watcher's pairs are the truth."""
    c = cockpit()
    async with c.app.run_test(size=(120, 40)) as pilot:
        await until(pilot, asking(c.run, "lower-ttl"))
        pane = pane_of(c)
        now = c.clock.now()
        rounds = Rounds(c.run.plan)
        other = Server("192.0.2.53", 53, "ns1.example.com.", label="ns1.example.com/192.0.2.53")
        observation = answer(2, OLD, now)
        moved = type(observation)(Pair("example.com", other), Status.OK, now, mx=OLD, ttl=600, serial=SERIAL, aa=True)
        for event in rounds.round([observation, moved], now):
            c.bus.publish(event)
        await until(pilot, lambda: pane.round == 1)
        await pilot.pause()
        assert sorted(label for _, label in pane.rows) == ["ns1.example.com/192.0.2.53", "ns2.example.com:5302"]
        assert len(pane.query(PairRow)) == 2


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (60, 20), (200, 50)])
async def test_no_line_is_wider_than_the_pane(cockpit: Build, size: tuple[int, int]) -> None:
    c = cockpit(head=FOUR_NAMESERVERS)
    async with c.app.run_test(size=size) as pilot:
        await until(pilot, asking(c.run, "lower-ttl"))
        for event in mixed_state(c.run.plan, c.clock.now()):
            c.bus.publish(event)
        pane = pane_of(c)
        await until(pilot, lambda: pane.round == 2)
        await pilot.pause()
        rows = list(pane.query(PairRow))
        assert len(rows) == 4
        for row in rows:
            assert row.shown and all(line.cell_length <= row.size.width for line in row.shown), text_of(row)
            assert row.line.state is None or row.line.state in text_of(row).split()
            assert row.line.status is not None and row.line.status.value in text_of(row).split()
        header = pane.query_one("#ns-header")
        assert header.render().cell_length <= header.size.width  # type: ignore[union-attr]
        if size[0] >= 110:
            assert all("parked.new.example.net." in text_of(row) for row in rows[:2]), "the whole MX when there is room"


def test_column_fit_never_exceeds_the_width() -> None:
    from textual.content import Content

    cells = {column: Content("x" * length) for column, length in zip(COLUMNS, (20, 7, 13, 5, 10, 9, 40), strict=True)}
    natural = {column: cells[column].cell_length for column in COLUMNS}
    for width in range(20, 160):
        for below in (False, True):
            fit = fit_columns(natural, width, below=below)
            lines = render_lines(cells, fit)
            assert all(line.cell_length <= width for line in lines), (width, below)
            if width >= 66:
                assert "x" * 7 in lines[0].plain.split()[1], "the state column is never cut"
