"""Which of the plan's named MX states an observation serves: a state name, "other", or "mixed".

A state is matched when every served record matches one of the state's records and every state record
is served (a state record without a preference matches any preference). A set drawn from several states
at once (the old and the new MX side by side) is "mixed"; anything else is "other". Only an OK answer
has a state: a failure is never counted as any state, so it can never look "propagated".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from cockpit.dns.observation import MxEntry, Observation, Status
from cockpit.plan.values import MxRecord

OTHER = "other"
MIXED = "mixed"

MxStates = Mapping[str, tuple[MxRecord, ...]]
"""State name → the records that define it for one domain (`Plan.mx_states(domain)`)."""

StatesFor = Callable[[str], MxStates]
"""Domain → its MX states: the plan's states may mean other records for some domains."""


def states_for(states: MxStates | StatesFor | None) -> StatesFor:
    """One way to ask for a domain's states, whether they differ per domain (a function) or not (a mapping)."""
    if callable(states):
        return states
    same: MxStates = dict(states or {})
    return lambda _domain: same


def _matches(entry: MxEntry, record: MxRecord) -> bool:
    return entry.host == _absolute(record.host) and (record.preference is None or record.preference == entry.preference)


def _absolute(host: str) -> str:
    host = host.lower()
    return host if host.endswith(".") else host + "."


def classify_mx(mx: Iterable[MxEntry], states: MxStates) -> str:
    """The state an MX set is in (first matching state in plan order), MIXED or OTHER."""
    served = list(mx)
    if not served:
        return OTHER
    partial: set[str] = set()
    for name, records in states.items():
        covered = [any(_matches(entry, record) for record in records) for entry in served]
        if all(covered) and all(any(_matches(entry, record) for entry in served) for record in records):
            return name
        if any(covered):
            partial.add(name)
    every_entry_known = all(any(_matches(e, r) for rs in states.values() for r in rs) for e in served)
    if every_entry_known and len(partial) > 1:
        return MIXED
    return OTHER


def classify(observation: Observation, states: MxStates) -> str | None:
    """The observation's state; None when it is not an OK answer, or when there are no states to match."""
    if observation.status is not Status.OK or not states:
        return None
    return classify_mx(observation.mx, states)


class Classifier:
    """`classify` with what each MX set means remembered per states mapping: a round of 10,000 pairs serves
    a handful of distinct MX sets, each classified once."""

    MEMO_MAX = 4096
    """MX sets remembered per mapping, and mappings remembered; beyond that the memory starts over."""

    def __init__(self, states: StatesFor) -> None:
        self.states = states
        self._memo: dict[int, tuple[MxStates, dict[tuple[MxEntry, ...], str]]] = {}
        """id(mapping) → the mapping (held, so that its id is not reused) and its MX sets' states."""

    def __call__(self, observation: Observation) -> str | None:
        if observation.status is not Status.OK:
            return None
        states = self.states(observation.pair.domain)
        if not states:
            return None
        entry = self._memo.get(id(states))
        if entry is None or entry[0] is not states:
            if len(self._memo) >= self.MEMO_MAX:
                self._memo.clear()
            entry = self._memo[id(states)] = (states, {})
        known = entry[1]
        state = known.get(observation.mx)
        if state is None:
            if len(known) >= self.MEMO_MAX:
                known.clear()
            state = known[observation.mx] = classify_mx(observation.mx, states)
        return state
