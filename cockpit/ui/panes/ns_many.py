"""The nameservers pane for plans of many pairs (a hosting company's thousands of domains): counts per MX state
instead of a row per pair, then the pairs that lag behind the state the MX moves to (failing ones first, then
the longest lagging), in a list that draws only what is in view; `/` filters every pair by domain or
nameserver, and the selected pair's details show below.

A round of 10,000 answers costs one pass over them (each O(1), see ns_book.py); the list is sorted and drawn
at most four times a second, and only its visible lines are drawn.
"""

from __future__ import annotations

from typing import ClassVar, Unpack

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.events import Resize
from textual.message import Message
from textual.widgets import Input, Static

from cockpit.base.safe_text import visible
from cockpit.base.units import format_duration
from cockpit.dns import Snapshot
from cockpit.engine.events import DnsFlip
from cockpit.plan import Plan
from cockpit.ui.panes.column_fit import ColumnFit, fit_columns, natural_widths, render_lines
from cockpit.ui.panes.nameservers_pane import PlanMx, server_label
from cockpit.ui.panes.ns_book import FAILING, WAITING, PairBook
from cockpit.ui.panes.ns_table import PairTable
from cockpit.ui.panes.pair_line import HEADERS, PairLine, mx_from_flip, state_style
from cockpit.ui.panes.widget_options import WidgetOptions

REPAINT = 0.25
"""Seconds between two repaints at most while answers pour in."""
SLICE = 1000
"""Answers of a round taken in one turn of the pane's message queue."""
MEASURED = 200
"""Rows whose cells size the columns (the first of the list; the rest are cut to those widths)."""


MANY_PAIRS = 24
"""More (domain, nameserver) pairs than this and the pane counts instead of listing a row per pair."""


def many_pairs(plan: Plan) -> bool:
    """A plan that lists no nameservers watches each domain's NS records: count two per domain."""
    return len(plan.domains) * max(len(plan.nameservers), 2) > MANY_PAIRS


def count(number: int) -> str:
    return f"{number:,}"


class ManyPairsPane(Vertical):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "close_filter",
            "Clear filter",
            show=False,
            id="pairs.close-filter",
            tooltip="Clear the nameservers filter",
        ),
    ]

    DEFAULT_CSS = """
    ManyPairsPane {
        height: auto;
        #ns-summary { padding: 0 1; }
        #ns-lag-title { padding: 0 1; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
        #ns-header { height: 1; padding-left: 1; color: $text-muted; text-style: bold; text-wrap: nowrap; }
        PairTable { padding-left: 1; }
        #ns-detail { padding: 0 1; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
        #ns-filter { display: none; height: 1; border: none; padding: 0 1; }
        &.-filtering #ns-filter { display: block; }
    }
    """

    def __init__(self, plan: Plan, **options: Unpack[WidgetOptions]) -> None:
        super().__init__(**options)
        self.plan = plan
        self.states: tuple[str, ...] = tuple(plan.mx)
        self.book = PairBook(label_with_domain=True)
        labels = [server_label(server) for server in plan.nameservers]
        for domain in plan.domains:
            for label in labels:
                self.book.add(domain, label)
        self.round: int | None = None
        self.now = 0.0
        self.filter = ""
        self._announced: str | None = None
        self._plan_mx = PlanMx(plan)
        self._painted_version = -1
        self._pending = False
        self._shown: list[PairLine] = []
        self._lagging_since: float | None = None
        self._round_queue: Snapshot | None = None
        self._round_at = 0
        self.border_title = "Nameservers"

    def compose(self) -> ComposeResult:
        yield Static("", id="ns-summary", markup=False)
        yield Static("", id="ns-lag-title", markup=False)
        yield Static("", id="ns-header", markup=False)
        yield PairTable(id="ns-table")
        yield Static("", id="ns-detail", markup=False)
        yield Input(placeholder="filter pairs by domain or nameserver (Esc clears)", id="ns-filter")

    def on_mount(self) -> None:
        self._paint()

    def set_states(self, states: tuple[str, ...]) -> None:
        if states and states != self.states:
            self.states = states
            self._schedule()

    # ------------------------------------------------------------------ intake

    class Converged(Message):
        """Every domain's every pair serves the state the MX moved to (said once per state)."""

        def __init__(self, news: str) -> None:
            super().__init__()
            self.news = news

    def observe(self, snapshot: Snapshot, now: float) -> str | None:
        """Take a round in slices of SLICE answers, each in a turn of its own, so that keys are served between
        them; the convergence news comes as a Converged message once the round is in."""
        self.now = now
        self._round_queue = snapshot
        self._round_at = 0
        self._take_round()
        return None

    def _take_round(self) -> None:
        snapshot = self._round_queue
        if snapshot is None:
            return
        pairs = snapshot.pairs
        end = min(len(pairs), self._round_at + SLICE)
        observe = self.book.observe
        for index in range(self._round_at, end):
            observe(pairs[index])
        self._round_at = end
        if end < len(pairs):
            self.call_later(self._take_round)
            return
        self._round_queue = None
        self.round = snapshot.round
        if pairs:
            self.book.drop_unseen((view.pair.domain, view.pair.server.label) for view in pairs)
        self._schedule()
        self._say_news()

    def flip(self, event: DnsFlip, now: float) -> str | None:
        self.now = now
        self.book.flip(event, mx_from_flip(event, self._plan_mx.text(event.domain)))
        self._schedule()
        self._say_news()
        return None

    def _say_news(self) -> None:
        news = self._news()
        if news is not None:
            self.post_message(self.Converged(news))

    def tick(self, now: float) -> None:
        """The lag and "flipped … ago" columns move with the clock: redraw the visible lines only."""
        self.now = now
        if self.is_mounted:
            self._paint_lag_title()
            table = self.query_one(PairTable)
            table.now = now
            table.refresh()

    def _news(self) -> str | None:
        """Said once when every domain has every pair on the state the MX moved to."""
        target = self.book.target
        if target is None or target == self._announced:
            return None
        domains = self.book.domains
        if domains and self.book.domains_on.get(target, 0) == domains:
            self._announced = target
            return f"all {count(domains)} domains: every nameserver serves {target}"
        return None

    # ------------------------------------------------------------------ filter

    def open_filter(self) -> None:
        self.add_class("-filtering")
        self.query_one("#ns-filter", Input).focus()

    def action_close_filter(self) -> None:
        field = self.query_one("#ns-filter", Input)
        field.value = ""
        self.remove_class("-filtering")
        self.query_one(PairTable).focus()

    @on(Input.Changed, "#ns-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter = event.value.strip()
        self._painted_version = -1
        self._paint()

    @on(Input.Submitted, "#ns-filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        self.query_one(PairTable).focus()

    @on(PairTable.Selected)
    def _selected(self, event: PairTable.Selected) -> None:
        self.query_one("#ns-detail", Static).update(self._detail(event.line))

    # ------------------------------------------------------------------ painting

    def on_resize(self, event: Resize) -> None:
        self._painted_version = -1
        self.call_after_refresh(self._paint)

    def _schedule(self) -> None:
        if not self._pending and self.is_mounted:
            self._pending = True
            self.set_timer(REPAINT, self._paint)

    def _paint(self) -> None:
        self._pending = False
        if not self.is_mounted:
            return
        book = self.book
        self.query_one("#ns-summary", Static).update(self._summary())
        if book.version != self._painted_version:
            self._painted_version = book.version
            self._shown = book.matching(self.filter) if self.filter else book.laggards(self.now)
            self._lagging_since = book.lagging_since(self._shown)
        width = max(0, self.size.width - 1 - self.query_one(PairTable).styles.scrollbar_size_vertical)
        if width <= 0:
            return
        fit = self._fit(width)
        self.query_one("#ns-header", Static).update(render_lines({c: Content(t) for c, t in HEADERS.items()}, fit)[0])
        self.query_one(PairTable).show(self._shown, self.states, self.now, fit)
        self._paint_lag_title()

    def _fit(self, width: int) -> ColumnFit:
        sample = [line.cells(self.states, self.now) for line in self._shown[:MEASURED]]
        return fit_columns(natural_widths(sample, HEADERS), width, below=False)

    def _summary(self) -> Content:
        book = self.book
        awaited = book.awaited()
        head = f"{count(len(book))} pairs · {count(book.domains)} domains"
        if self.round is not None:
            head += f" · round {self.round}"
        parts: list[Content] = []
        ordered = [s for s in self.states if s in book.counts] + sorted(
            w for w in book.counts if w not in self.states and w not in (FAILING, WAITING)
        )
        for state in ordered:
            domains = book.domains_on.get(state, 0)
            mark = " ✓" if domains == book.domains and state == awaited else ""
            text = f"{state} {count(book.counts[state])} ({count(domains)} domains all){mark}"
            parts.append(Content.styled(text, state_style(self.states, state)))
        for word, style in ((FAILING, "bold $text-error"), (WAITING, "$text-muted")):
            if book.counts.get(word):
                parts.append(Content.styled(f"{word} {count(book.counts[word])}", style))
        return Content.assemble((head, "bold"), "\n", Content(" · ").join(parts) if parts else "no answers yet")

    def _paint_lag_title(self) -> None:
        book = self.book
        if self.filter:
            text = f"filter {self.filter!r}: {count(len(self._shown))} pairs (Esc clears)"
        elif not self._shown:
            awaited = book.awaited()
            text = f"every pair serves {awaited}" if awaited else "no answers yet"
        else:
            awaited = book.awaited()
            lag = ""
            if self._lagging_since is not None:
                lag = f", the longest for {format_duration(max(0.0, self.now - self._lagging_since))}"
            what = f"not on {awaited} yet" if awaited else "without an answer"
            text = f"{count(len(self._shown))} pairs {what}{lag} — Tab selects, / filters"
        self.query_one("#ns-lag-title", Static).update(text)

    def _detail(self, line: PairLine | None) -> str:
        if line is None:
            return ""
        parts = [line.label, line.state or (line.status.value if line.status else "waiting")]
        if line.serial is not None:
            parts.append(f"serial {line.serial}")
        if line.ttl is not None:
            parts.append(f"TTL {line.ttl}")
        parts.append(line.mx or visible(line.detail) or "")
        return " · ".join(p for p in parts if p)
