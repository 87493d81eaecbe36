"""The downtime forecast: before the MX leaves its first state, how long the downtime will last, part by part.

The downtime window is the run of steps from the one that moves the MX off its first state to the one that
proves mail flows again (engine/downtime.py has the one definition of downtime). Each step of it gets an
estimate with its basis, from what this journal measured (steps already done, the pre-copy's `SyncPass`, the
TTL the nameservers serve) or, failing that, from a rehearsal: the same step in an earlier journal of the same
plan (archived by `--fresh`). A step without either has no estimate, and the forecast says so.

Pure functions of the plan and the journal's records, so the screen, the headless printer and the report all
compute the same figures.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cockpit.base.units import format_duration, format_rate
from cockpit.engine.kinds.drain import poll_interval
from cockpit.engine.states import ACTIVE
from cockpit.plan import (
    FORMER_TTL,
    OLD_TTL,
    CanaryStep,
    ConfirmStep,
    CountdownStep,
    DnsUpdateStep,
    DrainStep,
    Plan,
    StepBase,
    SyncStep,
    VerifyStep,
    WaitDnsStep,
)

Record = dict[str, Any]
ACTIVE_STATES = frozenset(state.value for state in ACTIVE)


@dataclass(frozen=True)
class Part:
    step_id: str
    what: str
    """The part of the downtime: flip, parking convergence, TTL wait, drain, delta copy, verify, ..."""
    seconds: float | None
    """None: no estimate (nothing measured, no rehearsal)."""
    basis: str


@dataclass(frozen=True)
class Forecast:
    parts: tuple[Part, ...]

    @property
    def total(self) -> float:
        """The sum of the parts that have an estimate."""
        return sum(part.seconds for part in self.parts if part.seconds is not None)

    @property
    def unknown(self) -> tuple[Part, ...]:
        return tuple(part for part in self.parts if part.seconds is None)

    def summary(self) -> str:
        """`1m 10s (flip 1s, parking convergence 5s, ...)` with the parts that have no estimate named."""
        if not self.parts:
            return "no downtime window in the plan"
        known = ", ".join(f"{p.what} {format_duration(p.seconds)}" for p in self.parts if p.seconds is not None)
        missing = f" + {', '.join(p.step_id for p in self.unknown)} (no estimate)" if self.unknown else ""
        return f"{format_duration(self.total)}{missing}" + (f": {known}" if known else "")

    def part(self, step_id: str) -> Part | None:
        return next((p for p in self.parts if p.step_id == step_id), None)


def downtime_window(plan: Plan) -> list[StepBase]:
    """The steps expected to run while mail is refused: from the step that moves the MX off its first state
    (a dns_update to another state, or the confirm step just before the first wait for another state) to the
    proof that mail flows again (a delivered canary, else the wait for the last MX state)."""
    steps: list[StepBase] = [step for _, step in plan.steps()]
    states = list(plan.mx)
    first, last = states[0], states[-1]
    start = next((i for i, s in enumerate(steps) if isinstance(s, DnsUpdateStep) and s.mx != first), None)
    if start is None:
        waits = [i for i, s in enumerate(steps) if isinstance(s, WaitDnsStep) and s.mx not in (None, first)]
        if not waits:
            return []
        start = max(0, waits[0] - 1) if waits[0] > 0 and isinstance(steps[waits[0] - 1], ConfirmStep) else waits[0]
    end = next((i for i in range(start, len(steps)) if _proves_mail_flows(steps[i])), None)
    if end is None:
        end = next((i for i in range(start, len(steps)) if _waits_for(steps[i], last)), len(steps) - 1)
    return steps[start : end + 1]


def _waits_for(step: StepBase, state: str) -> bool:
    return isinstance(step, WaitDnsStep) and step.mx == state


def _proves_mail_flows(step: StepBase) -> bool:
    return isinstance(step, CanaryStep) and step.expect == "delivered"


def step_durations(records: Iterable[Record]) -> dict[str, list[float]]:
    """Each step's done attempts: seconds from its first active state to done, in journal order."""
    started: dict[str, float] = {}
    done: dict[str, list[float]] = {}
    for record in records:
        if record.get("type") != "StepChanged":
            continue
        step_id, state, at = str(record.get("step_id")), str(record.get("state")), record.get("at")
        if not isinstance(at, int | float):
            continue
        if state in ACTIVE_STATES:
            started.setdefault(step_id, float(at))
        elif state == "done" and step_id in started:
            done.setdefault(step_id, []).append(float(at) - started.pop(step_id))
        elif state in ("failed", "skipped", "interrupted", "pending", "ready"):
            started.pop(step_id, None)
    return done


@dataclass
class Inputs:
    plan: Plan
    records: Sequence[Record]
    """This journal's records so far (earlier runs included)."""
    rehearsals: Sequence[Sequence[Record]] = ()
    """Earlier journals of the same plan, newest first."""
    served_ttl: int | None = None
    """The largest MX TTL the nameservers serve now."""
    now: float = 0.0


def make_forecast(inputs: Inputs) -> Forecast:
    measured = step_durations(inputs.records)
    rehearsed = [step_durations(records) for records in inputs.rehearsals]
    kinds: dict[str, str] = {step.id: step.kind for _, step in inputs.plan.steps()}
    parts = []
    for step in downtime_window(inputs.plan):
        what, seconds, basis = _estimate(step, inputs, measured, kinds)
        if seconds is None:
            for earlier in rehearsed:
                if earlier.get(step.id):
                    seconds, basis = earlier[step.id][-1], "as in the rehearsal (an earlier journal of the plan)"
                    break
        parts.append(Part(step.id, what, seconds, basis))
    return Forecast(tuple(parts))


def _estimate(
    step: StepBase, inputs: Inputs, measured: dict[str, list[float]], kinds: dict[str, str]
) -> tuple[str, float | None, str]:
    """(part name, seconds or None, basis) from this journal alone."""
    last_state = list(inputs.plan.mx)[-1]
    if step.id in measured and step.kind not in ("sync", "countdown", "drain"):
        return _name(step, last_state), measured[step.id][-1], "as it took when it ran before"

    def like(kind: str) -> list[float]:
        return [d for step_id, ds in measured.items() if kinds.get(step_id) == kind for d in ds]

    if isinstance(step, DnsUpdateStep):
        seen = like("dns_update")
        return "flip", _median(seen), f"as the {len(seen)} MX change(s) made before" if seen else "no MX change yet"
    if isinstance(step, WaitDnsStep):
        seen = like("wait_dns")
        if seen:
            return _name(step, last_state), max(seen), "the slowest nameserver's lag seen so far"
        return _name(step, last_state), None, "no nameserver lag measured yet"
    if isinstance(step, CountdownStep):
        return _countdown(step, inputs)
    if isinstance(step, DrainStep):
        seconds = step.quiet + poll_interval(step)
        return "drain", seconds, f"quiet for {format_duration(step.quiet)}, seen at the next look"
    if isinstance(step, SyncStep):
        return _delta_copy(step, inputs)
    if isinstance(step, VerifyStep):
        scans = [r for r in inputs.records if r.get("type") == "SyncPass" and r.get("source") == step.source]
        if scans:
            seconds = float(scans[-1].get("inventory_seconds") or 0.0)
            return "verify", seconds, "both stores read, as the last sync pass read them"
        return "verify", None, "no sync pass measured yet"
    if isinstance(step, ConfirmStep):
        return "your confirmation", None, "the operator's own pace"
    if isinstance(step, CanaryStep):  # a refusal check is a probe like a port check; a delivery has to happen
        seen = like("port") + like("canary") if step.expect == "refused" else []
    else:
        seen = like(step.kind)
    if seen:
        return _name(step), _median(seen), f"as the {len(seen)} {step.kind} step(s) done before"
    return _name(step), None, "nothing like it measured, no rehearsal"


def _name(step: StepBase, last_state: str = "") -> str:
    if isinstance(step, WaitDnsStep):
        return "convergence" if step.mx == last_state else "parking convergence"
    if isinstance(step, CanaryStep):
        return "proof of delivery" if step.expect == "delivered" else "refusal check"
    names = {"ssh": "remote command", "transfer": "transfer", "port": "port check", "sync": "delta copy",
             "dns_update": "flip", "countdown": "wait", "confirm": "your confirmation"}  # fmt: skip
    return names.get(step.kind, step.kind)


def _countdown(step: CountdownStep, inputs: Inputs) -> tuple[str, float | None, str]:
    if isinstance(step.wait, float):
        return "wait", step.wait, "a fixed wait"
    if step.wait == OLD_TTL:
        served = inputs.served_ttl if inputs.served_ttl is not None else served_ttl(inputs.records)
        ttl = served if served is not None else inputs.plan.ttl
        if ttl is None:
            return "TTL wait", None, "the MX TTL is not known yet"
        where = "the TTL the nameservers serve now" if served is not None else "the plan's ttl"
        return "TTL wait", float(ttl), f"one old MX TTL: {ttl} s, {where}"
    assert step.wait == FORMER_TTL
    return "TTL wait", None, "what the former TTL leaves is known only once the TTL was lowered"


def _delta_copy(step: SyncStep, inputs: Inputs) -> tuple[str, float | None, str]:
    """The pre-copy's scan time and copy rate, applied to what arrived since at the rate mail arrived."""
    passes = [r for r in inputs.records if r.get("type") == "SyncPass" and r.get("source") == step.source
              and r.get("dest") == step.dest]  # fmt: skip
    if not passes:
        return "delta copy", None, "no pre-copy measured yet"
    last = passes[-1]
    scan = float(last.get("inventory_seconds") or 0.0)
    copy_seconds, copied = float(last.get("copy_seconds") or 0.0), int(last.get("bytes") or 0)
    rate = copied / copy_seconds if copy_seconds > 0 and copied > 0 else None
    arrivals = _arrival_rate(inputs.records, step.source)
    source_messages = int(last.get("source_messages") or 0)
    size = int(last.get("source_bytes") or 0) / source_messages if source_messages else 0.0
    since = max(0.0, inputs.now - float(last.get("at") or inputs.now))
    expected = arrivals * since if arrivals is not None else 0.0
    copy = expected * size / rate if rate else 0.0
    basis = f"a scan of {source_messages} messages as the last pass ({format_duration(scan)})"
    if arrivals is not None:
        basis += f", ~{expected:.0f} new messages at {arrivals * 60:.1f}/min"
    if rate:
        basis += f" copied at {format_rate(rate)}"
    return "delta copy", scan + copy, basis


def served_ttl(records: Iterable[Record]) -> int | None:
    """The largest MX TTL served now, as far as the journal saw: each pair's latest TTL."""
    latest: dict[tuple[str, str], int] = {}
    for record in records:
        if record.get("type") == "DnsTtl" and isinstance(record.get("after"), int):
            latest[(str(record.get("domain")), str(record.get("nameserver")))] = int(record["after"])
    return max(latest.values()) if latest else None


def _arrival_rate(records: Sequence[Record], store: str) -> float | None:
    """Messages per second arriving in `store`, from two counts of it (an inventory, the sync passes)."""
    counts: list[tuple[float, int]] = []
    for record in records:
        at = record.get("at")
        if not isinstance(at, int | float):
            continue
        if record.get("type") == "InventoryTaken" and record.get("store") == store:
            counts.append((float(at), sum(int(box[2]) for box in record.get("mailboxes", ()))))
        elif record.get("type") == "SyncPass" and record.get("source") == store:
            counts.append((float(at), int(record.get("source_messages") or 0)))
    if len(counts) < 2 or counts[-1][0] <= counts[0][0]:
        return None
    return max(0.0, (counts[-1][1] - counts[0][1]) / (counts[-1][0] - counts[0][0]))


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None
