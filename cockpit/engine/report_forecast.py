"""The report's forecast section: the forecast made before the downtime started beside what each part took,
and the forecast total beside the downtime measured (engine/downtime.py)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from cockpit.base.safe_text import visible
from cockpit.base.units import format_duration
from cockpit.engine.downtime import DowntimeClock
from cockpit.engine.forecast import Forecast, step_durations
from cockpit.engine.forecast_watch import forecast_from_record


@dataclass(frozen=True)
class ForecastRow:
    step_id: str
    part: str
    forecast: str
    measured: str
    basis: str


@dataclass(frozen=True)
class ForecastReport:
    made_at: float
    rows: tuple[ForecastRow, ...]
    total: str
    """`forecast 4.4s, measured 3.9s (−11 %)`."""


def forecast_report(records: list[dict[str, Any]], downtime: DowntimeClock) -> ForecastReport | None:
    """The last forecast made before the downtime started, part by part beside each step's measured time."""
    if downtime.started is None:
        return None
    made = [r for r in records if r.get("type") == "ForecastMade" and float(r.get("at", 0.0)) <= downtime.started]
    if not made:
        return None
    forecast = forecast_from_record(made[-1])
    took = {step_id: durations[-1] for step_id, durations in step_durations(records).items()}
    rows = tuple(
        ForecastRow(
            p.step_id,
            p.what,
            "—" if p.seconds is None else format_duration(p.seconds),
            format_duration(took[p.step_id]) if p.step_id in took else "—",
            p.basis,
        )
        for p in forecast.parts
    )
    return ForecastReport(float(made[-1]["at"]), rows, _total(forecast, downtime))


def _total(forecast: Forecast, downtime: DowntimeClock) -> str:
    text = f"forecast {format_duration(forecast.total)}"
    if forecast.unknown:
        text += f" (without {', '.join(p.step_id for p in forecast.unknown)}: no estimate)"
    if downtime.started is None or downtime.ended is None:
        return text + ", the downtime is not over in this journal"
    measured = downtime.ended - downtime.started
    drift = f" ({(forecast.total - measured) / measured:+.0%} against it)" if measured > 0 else ""
    return f"{text}; measured {format_duration(measured)}{drift}"


def forecast_markdown(report: ForecastReport | None) -> list[str]:
    if report is None:
        return []
    out = ["", "## Downtime forecast", "", f"{visible(report.total)}.", "",
           "| step | part | forecast | measured | basis |", "|---|---|---|---|---|"]  # fmt: skip
    for row in report.rows:
        cells = (row.step_id, row.part, row.forecast, row.measured, row.basis)
        out.append("| " + " | ".join(visible(c).replace("|", "\\|") for c in cells) + " |")
    return out


def forecast_html(report: ForecastReport | None) -> str:
    if report is None:
        return ""

    def esc(value: str) -> str:
        return html.escape(visible(value))

    rows = "".join(
        f"<tr><td>{esc(r.step_id)}</td><td>{esc(r.part)}</td><td>{esc(r.forecast)}</td><td>{esc(r.measured)}</td>"
        f"<td>{esc(r.basis)}</td></tr>"
        for r in report.rows
    )
    head = "<tr><th>step</th><th>part</th><th>forecast</th><th>measured</th><th>basis</th></tr>"
    return f"<h2>Downtime forecast</h2><p>{esc(report.total)}.</p><table>{head}{rows}</table>"
