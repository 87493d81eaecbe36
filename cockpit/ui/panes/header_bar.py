"""The top line: plan name, phase, mode, elapsed time and, once the MX left its first state, downtime."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

from cockpit.base.safe_text import visible
from cockpit.base.units import format_clock, format_duration
from cockpit.engine.events import RunFinished
from cockpit.engine.forecast import Forecast
from cockpit.engine.run import PlanRun

PHASE_WIDTH = 24
"""The longest phase name the header shows whole (the plan's name keeps some room at 80 columns)."""


def hms(seconds: float) -> str:
    whole = max(0, round(seconds))
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


class HeaderBar(Horizontal):
    """Fields are set by the screen; the elapsed and downtime clocks come from the run's clock."""

    DEFAULT_CSS = """
    HeaderBar {
        height: 1;
        dock: top;
        background: $panel;
        Label { padding: 0 1; text-wrap: nowrap; }
        #header-name { width: 1fr; text-style: bold; text-overflow: ellipsis; }
        #header-mode { color: $text-accent; }
        #header-downtime { display: none; background: $error-muted; color: $text; text-style: bold; }
        &.-downtime #header-downtime, &.-forecast #header-downtime { display: block; }
        &.-forecast #header-downtime { background: $warning-muted; text-style: none; }
        &.-downtime-over #header-downtime { background: $success-muted; }
    }
    """

    def compose(self) -> ComposeResult:
        yield Label("", id="header-name", markup=False)
        yield Label("", id="header-phase", markup=False)
        yield Label("", id="header-mode", markup=False)
        yield Label("", id="header-downtime", markup=False)
        yield Label("", id="header-elapsed", markup=False)

    def show(
        self,
        *,
        name: str,
        phase: str,
        mode: str,
        elapsed: float,
        downtime: float | None,
        downtime_over: bool,
        forecast: str = "",
        ends: float | None = None,
    ) -> None:
        """`forecast` (before the downtime: its forecast, e.g. `4m10s`) and `ends` (during it: the projected
        end) come from the run's ForecastWatch."""
        self.query_one("#header-name", Label).update(name)
        self.query_one("#header-phase", Label).update(phase)
        self.query_one("#header-mode", Label).update(mode)
        self.query_one("#header-elapsed", Label).update(hms(elapsed))
        self.set_class(downtime is not None, "-downtime")
        self.set_class(downtime is None and bool(forecast), "-forecast")
        self.set_class(downtime_over, "-downtime-over")
        self.set_class(downtime is not None and not downtime_over, "-downtime-running")
        label = self.query_one("#header-downtime", Label)
        if downtime is not None:
            if downtime_over:  # the final figure, printed as the tally, the summary and the report print it
                label.update(f"downtime {format_duration(downtime)} (over)")
            else:
                end = f" · ends ~{format_clock(ends)}" if ends is not None else ""
                label.update(f"downtime {hms(downtime)}{end}")
        elif forecast:
            label.update(f"forecast {forecast}")


def run_phase(run: PlanRun, finished: RunFinished | None) -> str:
    """`during 7/16` (with the outcome once the run ended); a long phase name is cut to keep the plan's."""
    current = run.current
    phase = visible(run.steps[current].phase) if current in run.steps else ""
    if len(phase) > PHASE_WIDTH:
        phase = phase[: PHASE_WIDTH - 1] + "…"
    settled = sum(1 for status in run.steps.values() if status.state.settled)
    outcome = f" · {finished.outcome}" if finished else ""
    return f"{phase} {settled}/{len(run.steps)}{outcome}".strip()


def run_mode(run: PlanRun) -> str:
    return ("dry run · " if run.options.dry_run else "") + f"{run.options.mode} mode"


def forecast_text(forecast: Forecast | None) -> str:
    """`4m10s`, or `4m10s+?` when some part has no estimate; "" without a forecast."""
    if forecast is None or not forecast.parts:
        return ""
    return format_duration(forecast.total) + ("+?" if forecast.unknown else "")
