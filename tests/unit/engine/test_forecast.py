"""The downtime forecast from a journal's records: which steps the downtime spans, each part's estimate and
its basis (measured in this journal, the pre-copy's rate, the TTL served now, a rehearsal), the projection
and the drift notice while the downtime runs, and the report's forecast-against-measured table."""

from __future__ import annotations

from typing import Any

import pytest

from cockpit.engine.events import DnsFlip, Event, ForecastMade, ListenerProven, Notice, RunStarted, StepChanged
from cockpit.engine.forecast import Inputs, downtime_window, make_forecast, served_ttl, step_durations
from cockpit.engine.forecast_watch import ForecastWatch
from cockpit.engine.report import build_timeline, render_markdown
from cockpit.engine.states import StepState
from cockpit.plan import Plan, parse_plan

HEAD = """\
version: 1
name: forecast
domains: [example.com]
nameservers: [{name: ns1.example.com, address: 127.0.0.1}]
ttl: 300
mx:
  old: 10 mail.old.example.
  parking: 10 parked.example.
  new: 10 mail.new.example.
hosts:
  old: {address: 192.0.2.1, user: root}
  new: {address: 192.0.2.2, user: root}
secrets:
  k: {file: tsig.key}
stores:
  a: {host: old, format: maildir, path: "~/Maildir"}
  b: {host: new, format: maildir, path: "~/Maildir"}
phases:
"""

MOVE = """\
  - name: before
    steps:
      - dns_update: {server: 192.0.2.9, key: k, mx: old, ttl: 300}
        id: lower-ttl
      - wait_dns: {ttl_at_most: 300}
        id: ttl-low
      - inventory: a
        id: inv
      - sync: {from: a, to: b}
        id: pre-copy
  - name: during
    steps:
      - dns_update: {server: 192.0.2.9, key: k, mx: parking}
        id: to-parking
      - wait_dns: {mx: parking}
        id: parked
      - countdown: old_ttl
        id: ttl-wait
      - drain: {store: a, quiet: 60s}
        id: quiet
      - sync: {from: a, to: b}
        id: delta
      - ssh: {host: new, run: "systemctl start postfix"}
        id: start-mta
      - canary: {expect: delivered, to: a@example.com, store: b}
        id: proof
  - name: after
    steps:
      - dns_update: {server: 192.0.2.9, key: k, mx: new}
        id: to-new
"""


def plan(phases: str = MOVE) -> Plan:
    return parse_plan(HEAD + phases, "forecast.yaml")


def ran(step_id: str, start: float, end: float) -> list[dict[str, Any]]:
    return [{"type": "StepChanged", "at": start, "step_id": step_id, "state": "running"},
            {"type": "StepChanged", "at": end, "step_id": step_id, "state": "done"}]  # fmt: skip


def before_the_downtime() -> list[dict[str, Any]]:
    """A journal up to the parking flip: the TTL lowered (ns lag 20 s), an inventory and a pre-copy."""
    return [
        *ran("lower-ttl", 0, 2),
        {"type": "DnsTtl", "at": 1, "domain": "example.com", "nameserver": "ns1", "before": None, "after": 3600},
        {"type": "DnsTtl", "at": 21, "domain": "example.com", "nameserver": "ns1", "before": 3600, "after": 300},
        *ran("ttl-low", 2, 22),
        *ran("inv", 22, 32),
        {"type": "InventoryTaken", "at": 32, "step_id": "inv", "store": "a", "mailboxes": [["u", 1, 1000, 10**8]]},
        *ran("pre-copy", 32, 232),
        {"type": "SyncPass", "at": 232, "step_id": "pre-copy", "source": "a", "dest": "b", "messages": 1000,
         "bytes": 10**8, "seconds": 200, "source_messages": 1100, "source_bytes": 1.1 * 10**8,
         "inventory_seconds": 20.0, "copy_seconds": 180.0},
    ]  # fmt: skip


def test_the_window_runs_from_the_flip_off_the_first_state_to_the_proof_of_delivery() -> None:
    assert [s.id for s in downtime_window(plan())] == [
        "to-parking", "parked", "ttl-wait", "quiet", "delta", "start-mta", "proof"
    ]  # fmt: skip
    by_hand = """\
  - name: during
    steps:
      - confirm: Point the MX at parking
        id: by-hand
      - wait_dns: {mx: parking}
        id: parked
      - countdown: 10m
        id: wait
      - confirm: Point the MX at new
        id: by-hand-2
      - wait_dns: {mx: new}
        id: on-new
      - ssh: {host: old, run: "true"}
        id: later
"""
    assert [s.id for s in downtime_window(plan(by_hand))] == ["by-hand", "parked", "wait", "by-hand-2", "on-new"]
    assert downtime_window(plan("  - name: p\n    steps:\n      - countdown: 1m\n        id: only\n")) == []


def test_each_part_says_its_estimate_and_basis() -> None:
    forecast = make_forecast(Inputs(plan(), before_the_downtime(), now=332.0))
    parts = {p.step_id: (p.what, p.seconds, p.basis) for p in forecast.parts}
    assert parts["to-parking"] == ("flip", 2.0, "as the 1 MX change(s) made before")
    assert parts["parked"] == ("parking convergence", 20.0, "the slowest nameserver's lag seen so far")
    assert parts["ttl-wait"] == ("TTL wait", 300.0, "one old MX TTL: 300 s, the TTL the nameservers serve now")
    assert parts["quiet"][:2] == ("drain", 65.0)  # quiet 60 s, seen at the next look (every 5 s)
    what, seconds, basis = parts["delta"]
    # 100 messages arrived in 200 s (1000 at the inventory, 1100 at the pre-copy): 50 more in the 100 s since;
    # 100 kB each, copied at 100 MB / 180 s: 20 s of scanning plus 9 s of copying.
    assert what == "delta copy" and seconds == pytest.approx(20 + 50 * 10**5 / (10**8 / 180))
    assert "~50 new messages at 30.0/min" in basis
    assert parts["start-mta"] == ("remote command", None, "nothing like it measured, no rehearsal")
    assert parts["proof"][1] is None
    assert forecast.total == pytest.approx(2 + 20 + 300 + 65 + seconds)
    assert forecast.summary().startswith("6m56s + start-mta, proof (no estimate): flip 2s, parking convergence 20s")


def test_a_rehearsal_fills_what_this_journal_has_not_measured() -> None:
    rehearsal = [*ran("start-mta", 1000, 1004.5), *ran("proof", 1005, 1012)]
    forecast = make_forecast(Inputs(plan(), before_the_downtime(), rehearsals=[rehearsal], now=332.0))
    assert forecast.part("start-mta") is not None and forecast.part("start-mta").seconds == 4.5  # type: ignore[union-attr]
    assert forecast.part("proof").basis == "as in the rehearsal (an earlier journal of the plan)"  # type: ignore[union-attr]
    assert not forecast.unknown


def test_nothing_measured_yet_leaves_parts_without_an_estimate() -> None:
    forecast = make_forecast(Inputs(plan(), [], now=0.0))
    assert {p.step_id for p in forecast.unknown} == {"to-parking", "parked", "delta", "start-mta", "proof"}
    assert forecast.part("ttl-wait").basis == "one old MX TTL: 300 s, the plan's ttl"  # type: ignore[union-attr]


def test_durations_count_only_attempts_that_ended_done_and_the_served_ttl_is_each_pairs_latest() -> None:
    records = [*ran("a", 0, 5), {"type": "StepChanged", "at": 6, "step_id": "b", "state": "running"},
               {"type": "StepChanged", "at": 9, "step_id": "b", "state": "failed"}, *ran("b", 10, 11)]  # fmt: skip
    assert step_durations(records) == {"a": [5.0], "b": [1.0]}
    ttls = [{"type": "DnsTtl", "at": 0, "domain": "d", "nameserver": n, "after": t} for n, t in
            (("ns1", 3600), ("ns2", 3600), ("ns1", 300))]  # fmt: skip
    assert served_ttl(ttls) == 3600  # ns2 still serves the high TTL
    assert served_ttl([*ttls, {"type": "DnsTtl", "at": 1, "domain": "d", "nameserver": "ns2", "after": 300}]) == 300


class Clock:
    def __init__(self, now: float) -> None:
        self.now_value = now

    def now(self) -> float:
        return self.now_value


class Watched:
    def __init__(self) -> None:
        self.clock = Clock(1000.0)
        self.events: list[Event] = []
        self.watch = ForecastWatch(plan(), self.clock.now, self.events.append)
        self.watch.load([{**r, "at": r["at"] + 1000} for r in before_the_downtime()], [])
        self.watch(RunStarted(self.clock.now(), "forecast", "0", "step", False, True, ("to-parking",),
                              mx_states=("old", "parking", "new")))  # fmt: skip

    def step(self, step_id: str, state: StepState) -> None:
        self.watch(StepChanged(self.clock.now(), step_id, state))

    def notices(self) -> list[str]:
        return [e.text for e in self.events if isinstance(e, Notice)]


def test_the_watch_publishes_the_forecast_then_projects_the_end_and_warns_once_per_drift_band() -> None:
    w = Watched()
    made = [e for e in w.events if isinstance(e, ForecastMade)]
    assert len(made) == 1 and made[0].parts[0][:3] == ("to-parking", "flip", 2.0)
    total = made[0].total
    w.step("to-parking", StepState.RUNNING)
    w.watch(DnsFlip(w.clock.now(), "example.com", "ns1", "old", "parking", 300))  # the downtime starts
    start = w.clock.now()
    assert w.watch.downtime.started == start
    assert w.watch.projected_end(start) == pytest.approx(start + total)
    w.clock.now_value = start + 2
    w.step("to-parking", StepState.DONE)
    assert w.watch.projected_end(w.clock.now()) == pytest.approx(start + total)
    assert not w.notices()
    w.step("parked", StepState.WAITING_DNS)
    w.clock.now_value = start + 2 + 20 + 0.3 * total  # the nameserver lags far more than it did
    w.step("parked", StepState.WAITING_DNS)
    [notice] = w.notices()
    assert notice.startswith("the downtime runs 30% longer than forecast: it should end at ")
    assert "; parked has taken" in notice and "against 20s" in notice
    w.step("parked", StepState.WAITING_DNS)
    assert len(w.notices()) == 1, "one notice per band (25 %, 50 %, 100 % ...)"
    w.watch(ListenerProven(w.clock.now(), "proof", True, "canary delivered"))
    assert w.watch.projected_end(w.clock.now()) is None, "no projection once the downtime is over"


def test_the_report_puts_forecast_and_measured_side_by_side() -> None:
    records = [
        {"type": "RunStarted", "at": 0, "plan_name": "p", "step_ids": ["to-parking", "parked"], "mode": "step",
         "step_titles": ["A", "B"], "mx_states": ["old", "parking", "new"]},
        {"type": "DnsStates", "at": 0.5, "pairs": [["example.com", "ns1", "old"]]},
        {"type": "ForecastMade", "at": 1, "total": 22.0, "parts": [["to-parking", "flip", 2.0, "as before"],
                                                                   ["parked", "parking convergence", 20.0, "lag"],
                                                                   ["start-mta", "remote command", None, "none"]]},
        *ran("to-parking", 2, 3),
        {"type": "DnsFlip", "at": 3, "domain": "example.com", "nameserver": "ns1", "before": "old",
         "after": "parking", "ttl": 300},
        *ran("parked", 3, 33),
        {"type": "ListenerProven", "at": 30, "step_id": "proof", "through_mx": True},
    ]  # fmt: skip
    text = render_markdown(build_timeline(records))
    assert "## Downtime forecast" in text
    assert "forecast 22s (without start-mta: no estimate); measured 27s (-19% against it)." in text
    assert "| to-parking | flip | 2s | 1s | as before |" in text
    assert "| parked | parking convergence | 20s | 30s | lag |" in text
    assert "| start-mta | remote command | — | — | none |" in text
