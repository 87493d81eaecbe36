"""The nameservers pane: one row per (domain, nameserver) with the latest round's answer, updated in place
and never re-created, and a convergence line per domain ("parking 3/4").

Rows come from the plan's nameservers at start and from the DNS snapshots the engine publishes after each
polling round (discovered nameservers appear with the first round); flips between rounds update a row early.
"""

from __future__ import annotations

from collections import Counter
from typing import Unpack

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.events import Resize
from textual.widgets import Static

from cockpit.dns import Server, Snapshot
from cockpit.engine.events import DnsFlip
from cockpit.plan import Plan
from cockpit.plan.models import Nameserver
from cockpit.plan.mx_summary import records_text
from cockpit.ui.panes.column_fit import ColumnFit, fit_columns, fits_inline, natural_widths, render_lines
from cockpit.ui.panes.pair_line import HEADERS, PairLine, mx_from_flip, state_style, status_style
from cockpit.ui.panes.widget_options import WidgetOptions

Key = tuple[str, str]
"""(domain, nameserver label)."""


def server_label(nameserver: Nameserver) -> str:
    """The label the watcher will give this plan nameserver (a name without an address may resolve to
    several addresses, each a server of its own: those rows appear with the first round)."""
    if nameserver.address is not None:
        return Server(nameserver.address, nameserver.port, nameserver.name).label
    base = (nameserver.name or "").rstrip(".")
    return base if nameserver.port == 53 else f"{base}:{nameserver.port}"


class PlanMx:
    """The plan's records of each MX state per domain, as text, made once (domains without exceptions share
    one)."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self._texts: dict[int, dict[str, str]] = {}

    def text(self, domain: str) -> dict[str, str]:
        states = self.plan.mx_states(domain)
        text = self._texts.get(id(states))
        if text is None:
            text = self._texts[id(states)] = {state: records_text(records) for state, records in states.items()}
        return text


class PairRow(Static):
    """One pair's line (two when the MX goes under it); its content is set by the pane."""

    DEFAULT_CSS = """
    PairRow {
        height: 1; text-wrap: nowrap; text-overflow: ellipsis;
        &.-failed { background: $error-muted 30%; }
    }
    """

    def __init__(self, line: PairLine) -> None:
        super().__init__("", markup=False)
        self.line = line
        self.shown: list[Content] = []


class NameserversPane(Vertical):
    """Filled from DNS rounds (DnsRound snapshots) and flips as the run's watcher reports them."""

    DEFAULT_CSS = """
    NameserversPane {
        height: auto;
        #ns-header { height: 1; padding-left: 1; color: $text-muted; text-style: bold; text-wrap: nowrap; }
        #ns-rows { height: auto; max-height: 12; padding-left: 1; background: $surface; scrollbar-size-vertical: 1; }
        &.-mx-below PairRow { height: 2; }
        #ns-convergence { padding: 0 1; }
    }
    """

    def __init__(
        self,
        plan: Plan,
        **options: Unpack[WidgetOptions],
    ) -> None:
        super().__init__(**options)
        self.plan = plan
        self.states: tuple[str, ...] = tuple(plan.mx)
        self.plan_mx = PlanMx(plan)
        self.rows: dict[Key, PairRow] = {}
        self.converged: dict[str, str | None] = {}
        """Per domain: the state every pair serves, or None."""
        self.round: int | None = None
        """The number of the last polling round shown."""
        self.now = 0.0
        self._announced: dict[str, str] = {}
        self._moved: set[str] = set()
        """Domains where a pair moved from one state to another (not just its first answer)."""
        self.border_title = "Nameservers"

    def compose(self) -> ComposeResult:
        yield Static("", id="ns-header", markup=False)
        with VerticalScroll(id="ns-rows"):
            for domain in self.plan.domains:
                for server in self.plan.nameservers:
                    yield self._new_row(domain, server_label(server))
        yield Static("", id="ns-convergence", markup=False)

    def on_mount(self) -> None:
        self._convergence()

    def set_states(self, states: tuple[str, ...]) -> None:
        """The plan's MX state names in order (from RunStarted): colours go by position."""
        if states and states != self.states:
            self.states = states
            self._paint()
            self._convergence()

    # ------------------------------------------------------------------ intake

    def observe(self, snapshot: Snapshot, now: float) -> str | None:
        """Show a polling round; returns the convergence sentence when a domain just converged on a new state."""
        self.now = now
        self.round = snapshot.round
        for view in snapshot.pairs:
            row = self._row(view.pair.domain, view.pair.server.label)
            before = row.line.state
            row.line.observe(view)
            if before is not None and row.line.state is not None and before != row.line.state:
                self._moved.add(row.line.domain)
        if snapshot.pairs:
            self._drop_unwatched({(view.pair.domain, view.pair.server.label) for view in snapshot.pairs})
        self._paint()
        return self._convergence()

    def flip(self, event: DnsFlip, now: float) -> str | None:
        """Apply a flip; returns the convergence sentence when the domain just converged on a new state."""
        self.now = now
        row = self._row(event.domain, event.nameserver)
        if event.before is not None:
            self._moved.add(event.domain)
        row.line.flip(event, mx_from_flip(event, self.plan_mx.text(event.domain)))
        self._paint()
        return self._convergence()

    def tick(self, now: float) -> None:
        """Refresh the "flipped … ago" column."""
        self.now = now
        if any(row.line.flipped_at is not None for row in self.rows.values()):
            self._paint()

    # ------------------------------------------------------------------ rows

    def _new_row(self, domain: str, nameserver: str) -> PairRow:
        label = nameserver if len(self.plan.domains) < 2 else f"{domain} @{nameserver}"
        row = self.rows[(domain, nameserver)] = PairRow(PairLine(domain, nameserver, label))
        return row

    def _row(self, domain: str, nameserver: str) -> PairRow:
        row = self.rows.get((domain, nameserver))
        if row is None:
            row = self._new_row(domain, nameserver)
            self.query_one("#ns-rows", VerticalScroll).mount(row)
        return row

    def _drop_unwatched(self, watched: set[Key]) -> None:
        """Rows listed from the plan that the watcher does not poll under that label go (never a watched one)."""
        for key, row in list(self.rows.items()):
            if key not in watched and not row.line.seen:
                del self.rows[key]
                row.remove()

    # ------------------------------------------------------------------ painting

    def on_resize(self, event: Resize) -> None:
        self.call_after_refresh(self._paint)

    def _width(self) -> int:
        """The rows' width, keeping room for a scrollbar so that lines never change when one appears."""
        rows = self.query_one("#ns-rows", VerticalScroll)
        return max(0, self.size.width - rows.styles.padding.left - rows.styles.scrollbar_size_vertical)

    def _room(self) -> int:
        """Lines the rows may take before they scroll (the rows' max-height)."""
        limit = self.query_one("#ns-rows", VerticalScroll).styles.max_height
        cells = limit.cells if limit is not None else None
        return cells if cells is not None else 0

    def _paint(self) -> None:
        """Lay every row out for the pane's width and update the rows whose text changed."""
        if not self.is_mounted:
            return
        width = self._width()
        if width <= 0:
            return
        cells = {key: row.line.cells(self.states, self.now) for key, row in self.rows.items()}
        natural = natural_widths(list(cells.values()), HEADERS)
        below = not fits_inline(natural, width) and 2 * len(self.rows) <= self._room()
        self.set_class(below, "-mx-below")
        fit = fit_columns(natural, width, below=below)
        self._header(fit)
        for key, row in self.rows.items():
            lines = render_lines(cells[key], fit)
            row.set_class(row.line.failed, "-failed")
            if len(lines) != len(row.shown) or not all(a.is_same(b) for a, b in zip(lines, row.shown, strict=True)):
                row.shown = lines
                row.update(Content("\n").join(lines))

    def _header(self, fit: ColumnFit) -> None:
        header = {column: Content(text) for column, text in HEADERS.items()}
        self.query_one("#ns-header", Static).update(render_lines(header, fit)[0])

    def _convergence(self) -> str | None:
        """One line per domain: how many pairs serve each state, and how many fail (never counted as a state)."""
        lines: list[Content] = []
        news: str | None = None
        for domain in self.plan.domains:
            pairs = [row.line for row in self.rows.values() if row.line.domain == domain]
            total = len(pairs)
            states = Counter(line.state for line in pairs if line.state is not None)
            others = Counter(line.status for line in pairs if line.state is None and line.status is not None)
            waiting = sum(1 for line in pairs if line.status is None)
            parts = [
                Content.styled(f"{state} {count}/{total}", state_style(self.states, state))
                for state, count in states.most_common()
            ]
            parts += [Content.styled(f"{s.value} {n}/{total}", status_style(s)) for s, n in others.items()]
            if waiting and parts:
                parts.append(Content.styled(f"waiting {waiting}/{total}", "$text-muted"))
            if not parts:
                parts = [Content.styled("no answers yet", "$text-muted")]
            state = next(iter(states)) if len(states) == 1 and states.total() == total and total else None
            if state is not None:
                if state != self._announced.get(domain) and domain in self._moved:
                    news = f"{domain}: all {total} nameservers serve {state}"
                self._announced[domain] = state
            self.converged[domain] = state
            mark = Content.styled(" ✓", "$text-success") if state is not None else Content("")
            lines.append(Content.assemble((f"{domain}: ", "bold"), Content(" · ").join(parts), mark))
        self.query_one("#ns-convergence", Static).update(Content("\n").join(lines))
        return news
