"""The nameservers pane: one keyed row per (domain, nameserver), updated cell by cell, never re-created,
and a convergence line per domain ("parking 3/4")."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import DataTable, Static

from cockpit.engine.events import DnsFlip
from cockpit.plan import Plan
from cockpit.plan.values import format_duration

COLUMNS = (("nameserver", "Nameserver"), ("state", "State"), ("ttl", "TTL"), ("since", "Flipped"), ("mx", "MX"))


@dataclass
class Pair:
    domain: str
    nameserver: str
    state: str | None = None
    ttl: int | None = None
    flipped_at: float | None = None
    mx: str = ""


def state_style(states: tuple[str, ...], state: str | None) -> str:
    """The plan's first state in warning colour, the last in success, those between in accent, others error."""
    if state is None:
        return "$text-muted"
    if state not in states:
        return "bold $text-error"
    if state == states[-1]:
        return "bold $text-success"
    if state == states[0]:
        return "$text-warning"
    return "bold $text-accent"


class NameserversPane(Vertical):
    """Filled from DNS flips as the run's watcher reports them."""

    DEFAULT_CSS = """
    NameserversPane {
        height: auto;
        DataTable { height: auto; max-height: 12; background: $surface; }
        #ns-convergence { padding: 0 1; }
    }
    """

    def __init__(
        self,
        plan: Plan,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.plan = plan
        self.states: tuple[str, ...] = tuple(plan.mx)
        self.pairs: dict[str, Pair] = {}
        self.converged: dict[str, str | None] = {}
        self._moved: set[str] = set()
        """Domains where a pair moved from one state to another (not just its first answer)."""
        self.border_title = "Nameservers"

    def compose(self) -> ComposeResult:
        yield DataTable(cursor_type="row", zebra_stripes=False, id="ns-table")
        yield Static("", id="ns-convergence", markup=False)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        for domain in self.plan.domains:
            for server in self.plan.nameservers:
                self._row(domain, server.label)
        self._convergence()

    def set_states(self, states: tuple[str, ...]) -> None:
        if states:
            self.states = states

    def _row(self, domain: str, nameserver: str) -> Pair:
        key = f"{domain} {nameserver}"
        pair = self.pairs.get(key)
        if pair is None:
            pair = self.pairs[key] = Pair(domain, nameserver)
            label = nameserver if len(self.plan.domains) < 2 else f"{domain} @{nameserver}"
            self.query_one(DataTable).add_row(label, "—", "", "", "", key=key)
        return pair

    def flip(self, event: DnsFlip, now: float) -> str | None:
        """Apply a flip; returns the convergence sentence when the domain just converged on a new state."""
        pair = self._row(event.domain, event.nameserver)
        pair.state, pair.ttl, pair.flipped_at = event.after, event.ttl, event.at
        if event.before is not None:
            self._moved.add(event.domain)
        key = f"{event.domain} {event.nameserver}"
        records = self.plan.mx.get(event.after)
        pair.mx = ", ".join(str(record) for record in records) if records else event.detail
        table = self.query_one(DataTable)
        with self.app.batch_update():
            table.update_cell(key, "state", Content.styled(event.after, state_style(self.states, event.after)))
            table.update_cell(key, "ttl", str(event.ttl) if event.ttl is not None else "?")
            table.update_cell(key, "mx", pair.mx)
        self.tick(now)
        return self._convergence(event.domain)

    def tick(self, now: float) -> None:
        """Refresh the "flipped … ago" column."""
        table = self.query_one(DataTable)
        with self.app.batch_update():
            for key, pair in self.pairs.items():
                if pair.flipped_at is not None:
                    table.update_cell(key, "since", f"{format_duration(max(0.0, now - pair.flipped_at))} ago")

    def _convergence(self, changed: str | None = None) -> str | None:
        lines: list[Content] = []
        news: str | None = None
        for domain in self.plan.domains:
            pairs = [pair for pair in self.pairs.values() if pair.domain == domain]
            counts = Counter(pair.state for pair in pairs if pair.state is not None)
            parts = [
                Content.styled(f"{state} {count}/{len(pairs)}", state_style(self.states, state))
                for state, count in counts.most_common()
            ]
            if not parts:
                parts = [Content.styled("no answers yet", "$text-muted")]
            all_same = len(counts) == 1 and sum(counts.values()) == len(pairs) and pairs
            state = next(iter(counts)) if all_same else None
            moved = domain == changed and domain in self._moved
            if moved and state is not None and state != self.converged.get(domain):
                news = f"{domain}: all {len(pairs)} nameservers serve {state}"
            self.converged[domain] = state
            mark = Content.styled(" ✓", "$text-success") if state is not None else Content("")
            lines.append(Content.assemble((f"{domain}: ", "bold"), Content(" · ").join(parts), mark))
        self.query_one("#ns-convergence", Static).update(Content("\n").join(lines))
        return news
