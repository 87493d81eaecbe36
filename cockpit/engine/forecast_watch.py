"""The forecast at run time: a listener on the run's events that keeps the records the forecast needs,
publishes `ForecastMade` whenever the forecast changes before the downtime starts, and during the downtime
projects its end and warns when the run drifts more than 25 % from the forecast made before it started."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from cockpit.base.units import format_clock, format_duration
from cockpit.engine.downtime import DowntimeClock
from cockpit.engine.events import DnsRound, Event, ForecastMade, Notice, OutputLine, RunStarted, StepChanged
from cockpit.engine.forecast import Forecast, Inputs, Part, Record, downtime_window, make_forecast, step_durations
from cockpit.engine.journal import event_record
from cockpit.engine.states import ACTIVE, StepState
from cockpit.plan import Plan

KEPT = frozenset({"RunStarted", "StepChanged", "SyncPass", "InventoryTaken", "DnsTtl", "DnsFlip", "DnsStates",
                  "ListenerProven", "CountdownSet"})  # fmt: skip
"""The record types the forecast and the downtime clock read (never output lines: they are many)."""
DRIFT_STEPS = (0.25, 0.5, 1.0, 2.0, 4.0)
"""Drift ratios that each earn one notice."""
CHANGED = 0.05
"""A new forecast is published when its total moves by more than this share (or its unknown parts change)."""


class ForecastWatch:
    def __init__(self, plan: Plan, now: Callable[[], float], publish: Callable[[Event], None]) -> None:
        self.plan = plan
        self.now = now
        self.publish = publish
        self.records: list[Record] = []
        self.rehearsals: Sequence[Sequence[Record]] = ()
        self.downtime = DowntimeClock()
        self.forecast: Forecast | None = None
        """The latest forecast made before the downtime started (frozen once it started)."""
        self._window = {step.id for step in downtime_window(plan)}
        self._warned = 0
        self._started: dict[str, float] = {}

    def load(self, records: Sequence[Record], rehearsals: Sequence[Sequence[Record]]) -> None:
        """What the journal of earlier runs and the rehearsals (earlier journals of the plan) measured."""
        for record in records:
            if record.get("type") in KEPT:
                self._keep(record)
        self.rehearsals = rehearsals

    def _keep(self, record: Record) -> None:
        self.records.append(record)
        self.downtime.feed(record)

    def __call__(self, event: Event) -> None:
        if type(event) is OutputLine:  # most events under a flood; nothing a forecast uses
            return
        name = type(event).__name__
        if name in KEPT:
            self._keep(event_record(event))
        if isinstance(event, StepChanged):
            if event.state in ACTIVE:
                self._started.setdefault(event.step_id, event.at)
            elif event.state != StepState.READY:
                self._started.pop(event.step_id, None)
        if self.downtime.started is None:
            if isinstance(event, RunStarted) or (isinstance(event, StepChanged) and event.state == StepState.DONE):
                self._remake()
        elif not self.downtime.over and isinstance(event, StepChanged | DnsRound):
            self._check_drift()

    # ----------------------------------------------------------------- before the downtime

    def _remake(self) -> None:
        forecast = make_forecast(Inputs(self.plan, self.records, self.rehearsals, now=self.now()))
        if not forecast.parts or not differs(self.forecast, forecast):
            return
        self.forecast = forecast
        parts = tuple((p.step_id, p.what, p.seconds, p.basis) for p in forecast.parts)
        made = ForecastMade(self.now(), forecast.total, parts)
        try:  # after the event being delivered now has reached every listener
            asyncio.get_running_loop().call_soon(self.publish, made)
        except RuntimeError:
            self.publish(made)

    # ----------------------------------------------------------------- during it

    def projected_end(self, now: float) -> float | None:
        """When the downtime should end: now, plus what the forecast gives the window's steps not yet done
        (the running one's estimate less what it already took). None outside the downtime or without one."""
        if self.forecast is None or self.downtime.started is None or self.downtime.over:
            return None
        finished = self._done_since_start()
        left = 0.0
        for part in self.forecast.parts:
            if part.step_id in finished:
                continue
            estimate = part.seconds or 0.0
            began = self._started.get(part.step_id)
            left += max(0.0, estimate - (now - began)) if began is not None else estimate
        return now + left

    def _done_since_start(self) -> set[str]:
        started = self.downtime.started or 0.0
        return {
            str(r.get("step_id")) for r in self.records
            if r.get("type") == "StepChanged" and r.get("state") == "done" and float(r.get("at", 0.0)) >= started
        }  # fmt: skip

    def _check_drift(self) -> None:
        now = self.now()
        projected = self.projected_end(now)
        forecast, started = self.forecast, self.downtime.started
        if projected is None or forecast is None or started is None or forecast.total <= 0:
            return
        ratio = (projected - started) / forecast.total - 1
        if self._warned >= len(DRIFT_STEPS) or abs(ratio) <= DRIFT_STEPS[self._warned]:
            return
        while self._warned < len(DRIFT_STEPS) and abs(ratio) > DRIFT_STEPS[self._warned]:
            self._warned += 1
        longer = "longer" if ratio > 0 else "shorter"
        text = (f"the downtime runs {abs(ratio):.0%} {longer} than forecast: it should end at "
                f"{format_clock(projected)} ({format_duration(projected - started)} in all, forecast "
                f"{format_duration(forecast.total)}){self._culprit(now)}")  # fmt: skip
        self.publish(Notice(now, "warning", text))

    def _culprit(self, now: float) -> str:
        """The part that strays most from its estimate, in words."""
        assert self.forecast is not None
        done = step_durations(self.records)
        worst: tuple[float, str] | None = None
        for part in self.forecast.parts:
            if part.seconds is None:
                continue
            began = self._started.get(part.step_id)
            if began is not None:
                took, verb = now - began, "has taken"
            elif done.get(part.step_id):
                took, verb = done[part.step_id][-1], "took"
            else:
                continue
            gap = abs(took - part.seconds)
            if worst is None or gap > worst[0]:
                estimate = format_duration(part.seconds)
                worst = (gap, f"; {part.step_id} {verb} {format_duration(took)} against {estimate}")
        return worst[1] if worst is not None and worst[0] >= 1.0 else ""


def differs(old: Forecast | None, new: Forecast, *, bases: bool = True) -> bool:
    """Worth saying again: the total moved by more than CHANGED, other parts lack an estimate, or (with
    `bases`) a part is now estimated on another basis."""
    if old is None:
        return True
    if {p.step_id for p in old.unknown} != {p.step_id for p in new.unknown}:
        return True
    if bases and [p.basis for p in old.parts] != [p.basis for p in new.parts]:
        return True
    return abs(new.total - old.total) > CHANGED * max(old.total, 1.0)


def forecast_from_record(record: dict[str, Any]) -> Forecast:
    """A ForecastMade record back into a Forecast (the report)."""
    return Forecast(tuple(Part(str(p[0]), str(p[1]), None if p[2] is None else float(p[2]), str(p[3]))
                          for p in record.get("parts", ())))  # fmt: skip
