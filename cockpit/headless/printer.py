"""The headless face of a run: one line per event on stdout, answers from stdin (y / n / s) unless --yes.

Countdowns print every 10 %; output lines are prefixed with the host and stream; DNS rounds are silent,
DNS flips are not. A step that fans out prints its progress at most once a second (the engine's summary), one
line per failed item and its result; items done print nothing. While the downtime runs, the senders' view (how
long mail has been deferred, when the common MTAs retry, how long one may wait after the flip) is printed when
it starts and whenever a step starts, as the full screen's countdown pane shows it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from cockpit.base.units import format_clock, format_duration, format_rate
from cockpit.engine import events as ev
from cockpit.engine.downtime import DowntimeClock
from cockpit.engine.forecast import Forecast
from cockpit.engine.forecast_watch import differs, forecast_from_record
from cockpit.engine.journal import event_record
from cockpit.engine.states import StepState
from cockpit.mail.sender_retries import senders_view


class HeadlessPrinter:
    """Formats events as timestamped lines and hands them to `write` (stdout in the CLI)."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write
        self._countdown_decile: dict[str, int] = {}
        self._progress: dict[str, str] = {}
        self._transfer_decile: dict[str, int] = {}
        self.downtime = DowntimeClock()
        """The one definition of downtime (engine/downtime.py), for the summary at the end."""
        self.forecast: Forecast | None = None
        """The latest forecast made before the downtime started."""

    def _downtime(self, now: float) -> str:
        clock = self.downtime
        if clock.started is None:
            return ""
        elapsed = format_duration(clock.elapsed(now) or 0.0)
        if clock.ended is None:
            return f" · downtime {elapsed} so far, not over (since {format_clock(clock.started)})"
        forecast = f" (forecast {format_duration(self.forecast.total)})" if self.forecast is not None else ""
        return f" · downtime {elapsed}, from {format_clock(clock.started)} to {format_clock(clock.ended)}{forecast}"

    def __call__(self, event: ev.Event) -> None:
        was_down = self._down()
        if isinstance(event, ev.RunStarted | ev.DnsFlip | ev.ListenerProven):
            self.downtime.feed(event_record(event))
        text = self.format(event)
        stamp = format_clock(event.at)
        if text is not None:
            self.write(f"{stamp} {text}")
        started = isinstance(event, ev.StepChanged) and event.state is StepState.RUNNING
        if self._down() and (started or not was_down):
            since = self.downtime.started
            assert since is not None
            self.write(f"{stamp} senders: {senders_view(since, event.at).line(since)}")

    def _down(self) -> bool:
        """The downtime has started and is not over."""
        return self.downtime.started is not None and self.downtime.ended is None

    def format(self, event: ev.Event) -> str | None:
        if isinstance(event, ev.RunStarted):
            how = "resuming" if event.resumed else "starting"
            dry = ", dry run" if event.dry_run else ""
            return f"{how} '{event.plan_name}' ({event.mode} mode{dry}, {len(event.step_ids)} steps)"
        if isinstance(event, ev.RunFinished):
            return f"run {event.outcome} (exit {event.exit_code}){self._downtime(event.at)}"
        if isinstance(event, ev.StepChanged):
            if event.state in (StepState.COUNTING_DOWN,):
                return None
            detail = f": {event.detail}" if event.detail else ""
            return f"[{event.step_id}] {event.state.value}{detail}"
        if isinstance(event, ev.StepIntent):
            return None
        if isinstance(event, ev.StepProgress):
            if self._progress.get(event.step_id) == event.text:
                return None
            self._progress[event.step_id] = event.text
            return f"[{event.step_id}] {event.text}"
        if isinstance(event, ev.ItemFailed):
            return f"[{event.step_id}] ✗ {event.item}: {event.reason}"
        if isinstance(event, ev.OutputLine):
            return f"[{event.step_id}] {event.host} {event.stream}: {event.text}"
        if isinstance(event, ev.Decision):
            reason = f" ({event.reason})" if event.reason else ""
            return f"[{event.step_id}] {event.action} by {event.source}{reason}"
        if isinstance(event, ev.CountdownSet):
            state = "paused" if event.paused_remaining is not None else "until " + format_clock(event.deadline)
            return f"[{event.step_id}] countdown {format_duration(event.total)} {state} — {event.why}"
        if isinstance(event, ev.CountdownTick):
            if event.total <= 0:
                return None
            decile = int((1 - event.remaining / event.total) * 10)
            if self._countdown_decile.get(event.step_id) == decile:
                return None
            self._countdown_decile[event.step_id] = decile
            left = format_duration(math.ceil(event.remaining))
            return f"[{event.step_id}] countdown {decile * 10}% — {left} left"
        if isinstance(event, ev.TransferProgress):
            if not event.total_bytes:
                return None
            decile = int(event.done_bytes * 10 / event.total_bytes)
            if self._transfer_decile.get(event.step_id) == decile:
                return None
            self._transfer_decile[event.step_id] = decile
            eta = f", {format_duration(event.eta)} left" if event.eta is not None else ""
            return f"[{event.step_id}] transfer {decile * 10}% at {format_rate(event.rate)}{eta}"
        if isinstance(event, ev.DnsFlip):
            ttl = f" (TTL {event.ttl})" if event.ttl is not None else ""
            return f"dns {event.domain} @{event.nameserver}: {event.before or '-'} → {event.after}{ttl}"
        if isinstance(event, ev.Notice):
            return f"{event.level}: {event.text}"
        if isinstance(event, ev.ForecastMade):
            forecast, said = forecast_from_record(event_record(event)), self.forecast
            self.forecast = forecast
            return f"forecast downtime {forecast.summary()}" if differs(said, forecast, bases=False) else None
        return None
