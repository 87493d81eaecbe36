"""`cockpit report`: the timeline of a run from its journal, as Markdown or one self-contained HTML file.

The downtime window is measured from the DNS flips: from the first nameserver that stopped serving the
plan's first MX state (mail leaves the old host) until every nameserver serves its last state (the new host).
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, field
from typing import Any

from cockpit.plan.values import format_duration


@dataclass
class StepLine:
    step_id: str
    title: str = ""
    started: float | None = None
    ended: float | None = None
    result: str = "not started"
    detail: str = ""
    confirmed_by: str = ""
    output: list[str] = field(default_factory=list)


@dataclass
class Timeline:
    plan_name: str = ""
    runs: int = 0
    first: float | None = None
    last: float | None = None
    outcome: str = "unfinished (the cockpit stopped without closing the run)"
    steps: dict[str, StepLine] = field(default_factory=dict)
    flips: list[dict[str, Any]] = field(default_factory=list)
    mx_states: tuple[str, ...] = ()
    downtime: tuple[float, float | None] | None = None
    """(start, end) of the window; end None while not every nameserver serves the last state."""


def build_timeline(records: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> Timeline:
    timeline = Timeline()
    for record in records:
        kind = record.get("type")
        at = record.get("at")
        if isinstance(at, int | float):
            timeline.first = at if timeline.first is None else timeline.first
            timeline.last = at
        if kind == "RunStarted":
            timeline.runs += 1
            timeline.plan_name = str(record.get("plan_name", ""))
            timeline.mx_states = tuple(record.get("mx_states") or ())
            for step_id, title in zip(record.get("step_ids", []), record.get("step_titles", []), strict=False):
                timeline.steps.setdefault(step_id, StepLine(step_id, title)).title = title
            timeline.outcome = "unfinished (the cockpit stopped without closing the run)"
        elif kind == "RunFinished":
            timeline.outcome = f"{record.get('outcome')} (exit {record.get('exit_code')})"
        elif kind == "StepChanged":
            line = timeline.steps.setdefault(record["step_id"], StepLine(record["step_id"]))
            state = record.get("state")
            if state in ("running", "awaiting-confirmation", "waiting-dns", "counting-down") and line.started is None:
                line.started = at
            if state in ("done", "failed", "skipped", "interrupted"):
                line.ended, line.result, line.detail = at, str(state), str(record.get("detail", ""))
        elif kind == "Decision" and record.get("action") == "go":
            line = timeline.steps.setdefault(record["step_id"], StepLine(record["step_id"]))
            line.confirmed_by = str(record.get("source", ""))
        elif kind == "OutputLine":
            line = timeline.steps.setdefault(record["step_id"], StepLine(record["step_id"]))
            line.output.append(f"{record.get('host')} {record.get('stream')}: {record.get('text')}")
            del line.output[:-20]
        elif kind == "DnsFlip":
            timeline.flips.append(record)
    timeline.downtime = _downtime(timeline)
    return timeline


def _downtime(timeline: Timeline) -> tuple[float, float | None] | None:
    if len(timeline.mx_states) < 2 or not timeline.flips:
        return None
    first, last = timeline.mx_states[0], timeline.mx_states[-1]
    start = next((f["at"] for f in timeline.flips if f.get("before") == first and f.get("after") != first), None)
    if start is None:
        return None
    where: dict[tuple[str, str], str] = {}
    end: float | None = None
    for flip in timeline.flips:
        where[(flip["domain"], flip["nameserver"])] = flip["after"]
        if flip["at"] >= start:
            end = flip["at"] if all(state == last for state in where.values()) else None
    return start, end


def _clock(at: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at)) if at is not None else "—"


def _span(start: float | None, end: float | None) -> str:
    return format_duration(end - start) if start is not None and end is not None else "—"


def render_markdown(timeline: Timeline) -> str:
    out = [f"# Run report: {timeline.plan_name}", ""]
    out.append(f"- Outcome: {timeline.outcome}")
    out.append(f"- From {_clock(timeline.first)} to {_clock(timeline.last)} ({timeline.runs} run(s) of the cockpit)")
    out.append(f"- Downtime window: {_downtime_text(timeline)}")
    out += ["", "## Steps", "", "| step | title | started | ended | duration | result | confirmed by |",
            "|---|---|---|---|---|---|---|"]  # fmt: skip
    for line in timeline.steps.values():
        out.append(
            f"| {_md(line.step_id)} | {_md(line.title)} | {_clock(line.started)} | {_clock(line.ended)} | "
            f"{_span(line.started, line.ended)} | {_md(line.result)} | {_md(line.confirmed_by or '—')} |"
        )
    out += ["", "## DNS flips", ""]
    if timeline.flips:
        out += ["| time | domain | nameserver | from | to | TTL |", "|---|---|---|---|---|---|"]
        for flip in timeline.flips:
            out.append(
                f"| {_clock(flip['at'])} | {_md(flip['domain'])} | {_md(flip['nameserver'])} | "
                f"{_md(str(flip.get('before') or '—'))} | {_md(str(flip['after']))} | {flip.get('ttl') or '—'} |"
            )
    else:
        out.append("No nameserver changed its MX during the run.")
    failures = [line for line in timeline.steps.values() if line.result in ("failed", "interrupted")]
    if failures:
        out += ["", "## Failures", ""]
        for line in failures:
            out += [f"### {line.step_id}: {line.detail}", "", "```", *line.output, "```", ""]
    return "\n".join(out) + "\n"


def _downtime_text(timeline: Timeline) -> str:
    if timeline.downtime is None:
        return "not measured (no nameserver left the first MX state during the run)"
    start, end = timeline.downtime
    if end is None:
        return f"from {_clock(start)}, still open (not every nameserver serves '{timeline.mx_states[-1]}')"
    return f"{format_duration(end - start)}, from {_clock(start)} to {_clock(end)}"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_html(timeline: Timeline) -> str:
    def esc(value: object) -> str:
        return html.escape(str(value))

    rows = "".join(
        f"<tr class='{esc(s.result)}'><td>{esc(s.step_id)}</td><td>{esc(s.title)}</td><td>{esc(_clock(s.started))}</td>"
        f"<td>{esc(_clock(s.ended))}</td><td>{esc(_span(s.started, s.ended))}</td><td>{esc(s.result)}</td>"
        f"<td>{esc(s.confirmed_by or '—')}</td></tr>"
        for s in timeline.steps.values()
    )
    flips = "".join(
        f"<tr><td>{esc(_clock(f['at']))}</td><td>{esc(f['domain'])}</td><td>{esc(f['nameserver'])}</td>"
        f"<td>{esc(f.get('before') or '—')}</td><td>{esc(f['after'])}</td><td>{esc(f.get('ttl') or '—')}</td></tr>"
        for f in timeline.flips
    )
    failures = "".join(
        f"<h3>{esc(s.step_id)}: {esc(s.detail)}</h3><pre>{esc(chr(10).join(s.output))}</pre>"
        for s in timeline.steps.values()
        if s.result in ("failed", "interrupted")
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Run report: {esc(timeline.plan_name)}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }} td, th {{ border: 1px solid #ccc; padding: .3em .6em; }}
tr.done td:nth-child(6) {{ color: #1a7f37; }}
tr.failed td:nth-child(6), tr.interrupted td:nth-child(6) {{ color: #c00; }}
pre {{ background: #f6f6f6; padding: 1em; overflow-x: auto; }}
</style></head><body>
<h1>Run report: {esc(timeline.plan_name)}</h1>
<ul><li>Outcome: {esc(timeline.outcome)}</li>
<li>From {esc(_clock(timeline.first))} to {esc(_clock(timeline.last))} ({timeline.runs} run(s) of the cockpit)</li>
<li>Downtime window: <strong>{esc(_downtime_text(timeline))}</strong></li></ul>
<h2>Steps</h2><table><tr><th>step</th><th>title</th><th>started</th><th>ended</th><th>duration</th><th>result</th>
<th>confirmed by</th></tr>{rows}</table>
<h2>DNS flips</h2><table><tr><th>time</th><th>domain</th><th>nameserver</th><th>from</th><th>to</th><th>TTL</th></tr>
{flips}</table>
{"<h2>Failures</h2>" + failures if failures else ""}
</body></html>
"""
