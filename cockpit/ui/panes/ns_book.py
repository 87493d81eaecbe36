"""What the nameservers pane knows of many (domain, nameserver) pairs, kept so that one answer costs O(1): how
many pairs serve each MX state, how many domains have every pair on one state, and which pairs lag behind the
state the MX is moving to. Rounds and flips update it; the pane reads counts and a sorted list of laggards.

The state the MX moves to (the *target*) is the latest state a pair moved to from another one (the first
answers of a watch are no move). Before any move, the laggards are the pairs that fail or serve something else
than most pairs do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from cockpit.dns import PairView, Status
from cockpit.engine.events import DnsFlip
from cockpit.ui.panes.pair_line import PairLine

Key = tuple[str, str]
"""(domain, nameserver label)."""
WAITING = "waiting"
"""What a pair counts as before its first answer."""
FAILING = "failing"
"""What a pair counts as while its poll fails (timeout, refused, SERVFAIL, ...): never a state."""


def standing(line: PairLine) -> str:
    """The one word a pair counts under: its MX state, `failing`, `waiting` (or the answer's status)."""
    if line.status is None:
        return WAITING
    if line.state is not None:
        return line.state
    return FAILING if line.failed else line.status.value


class PairBook:
    def __init__(self, label_with_domain: bool = True) -> None:
        self.lines: dict[Key, PairLine] = {}
        self.counts: Counter[str] = Counter()
        """Pairs per standing."""
        self.per_domain: dict[str, Counter[str]] = {}
        self.converged: dict[str, str | None] = {}
        """Per domain: the state every one of its pairs serves, or None."""
        self.domains_on: Counter[str] = Counter()
        """Domains per state every pair of theirs serves."""
        self.target: str | None = None
        self.moved_at: dict[str, float] = {}
        """Per domain: when a pair of it first served the target (where lagging is counted from)."""
        self.target_at: float | None = None
        """When the first pair moved to the target."""
        self._label_with_domain = label_with_domain
        self.version = 0
        """Bumped on every change (the pane re-sorts its laggards only when it moved)."""

    def __len__(self) -> int:
        return len(self.lines)

    @property
    def domains(self) -> int:
        return len(self.per_domain)

    # ------------------------------------------------------------------ intake

    def add(self, domain: str, nameserver: str) -> PairLine:
        key = (domain, nameserver)
        line = self.lines.get(key)
        if line is None:
            label = f"{domain} @{nameserver}" if self._label_with_domain else nameserver
            line = self.lines[key] = PairLine(domain, nameserver, label)
            self.counts[WAITING] += 1
            self.per_domain.setdefault(domain, Counter())[WAITING] += 1
            self._recheck(domain)
        return line

    def observe(self, view: PairView) -> None:
        line = self.add(view.pair.domain, view.pair.server.label)
        before = standing(line), line.state
        line.observe(view)
        self._moved(line, before, view.serving_since)

    def flip(self, event: DnsFlip, mx: str) -> None:
        line = self.add(event.domain, event.nameserver)
        before = standing(line), line.state
        line.flip(event, mx)
        self._moved(line, before, event.at)

    def drop_unseen(self, watched: Iterable[Key]) -> None:
        """Pairs listed from the plan that the watcher polls under another label go (never a seen one)."""
        keep = set(watched)
        for key, line in list(self.lines.items()):
            if key not in keep and not line.seen:
                del self.lines[key]
                self._count(line.domain, standing(line), -1)
                if not self.per_domain[line.domain].total():
                    del self.per_domain[line.domain]
                    old = self.converged.pop(line.domain, None)
                    if old is not None:
                        self.domains_on[old] -= 1
                else:
                    self._recheck(line.domain)
                self.version += 1

    def _moved(self, line: PairLine, before: tuple[str, str | None], at: float | None) -> None:
        old_standing, old_state = before
        new_standing = standing(line)
        if new_standing == old_standing:
            return
        self.version += 1
        self._count(line.domain, old_standing, -1)
        self._count(line.domain, new_standing, +1)
        if old_state is not None and line.state is not None and line.state != old_state:
            when = at if at is not None else 0.0
            if line.state != self.target:
                self.target, self.target_at = line.state, when
                self.moved_at = {}
            self.moved_at.setdefault(line.domain, when)
        self._recheck(line.domain)

    def _count(self, domain: str, word: str, change: int) -> None:
        self.counts[word] += change
        if not self.counts[word]:
            del self.counts[word]
        counter = self.per_domain.setdefault(domain, Counter())
        counter[word] += change
        if not counter[word]:
            del counter[word]

    def _recheck(self, domain: str) -> None:
        counter = self.per_domain[domain]
        state = next(iter(counter)) if len(counter) == 1 else None
        if state in (WAITING, FAILING) or (state is not None and state not in self.states_seen()):
            state = None
        old = self.converged.get(domain)
        if old != state:
            if old is not None:
                self.domains_on[old] -= 1
                if not self.domains_on[old]:
                    del self.domains_on[old]
            if state is not None:
                self.domains_on[state] += 1
            self.converged[domain] = state

    def states_seen(self) -> set[str]:
        """Standings that are MX states (not waiting, failing or another status)."""
        return {word for word in self.counts if word not in (WAITING, FAILING) and word not in _STATUS_WORDS}

    # ------------------------------------------------------------------ reading

    def awaited(self) -> str | None:
        """The target, or (before any move) the state most pairs serve."""
        if self.target is not None:
            return self.target
        states = [(count, word) for word, count in self.counts.items() if word in self.states_seen()]
        return max(states)[1] if states else None

    def laggards(self, now: float) -> list[PairLine]:
        """Pairs not serving the awaited state: failing ones first, then the longest lagging, then by name."""
        awaited = self.awaited()
        late = [line for line in self.lines.values() if line.state != awaited]

        def order(line: PairLine) -> tuple[int, float, str]:
            word = standing(line)
            rank = 0 if word == FAILING else 2 if word == WAITING else 1
            since = self.moved_at.get(line.domain, self.target_at if self.target_at is not None else now)
            return rank, since, line.label

        late.sort(key=order)
        return late

    def matching(self, text: str) -> list[PairLine]:
        """Pairs whose domain or nameserver contains `text` (any case), by name."""
        needle = text.casefold()
        found = [line for line in self.lines.values()
                 if needle in line.domain.casefold() or needle in line.nameserver.casefold()]  # fmt: skip
        found.sort(key=lambda line: line.label)
        return found

    def lagging_since(self, lines: Iterable[PairLine]) -> float | None:
        """Since when the longest lagging of `lines` has lagged (None before the MX moved)."""
        if self.target_at is None:
            return None
        since = [self.moved_at.get(line.domain, self.target_at) for line in lines if line.state != self.target]
        return min(since, default=None)

    def lag(self, line: PairLine, now: float) -> float | None:
        """How long this pair's domain has been moving to the target while this pair is not there yet."""
        if self.target is None or line.state == self.target:
            return None
        since = self.moved_at.get(line.domain, self.target_at)
        return None if since is None else max(0.0, now - since)


_STATUS_WORDS = frozenset(status.value for status in Status)
