"""`cockpit report`: the timeline of a run from its journal, as Markdown or one self-contained HTML file.

The downtime is the one definition of engine/downtime.py, computed from the journal's records: DNS flips
(a flip made while no cockpit watched is counted when a cockpit next saw it) and the steps that proved a
listening new MTA.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from cockpit.base.safe_text import visible
from cockpit.base.units import format_duration, format_timestamp
from cockpit.engine.downtime import DowntimeClock
from cockpit.engine.report_forecast import ForecastReport, forecast_html, forecast_markdown, forecast_report
from cockpit.engine.report_mail import MAIL_RECORDS, mail_html, mail_markdown
from cockpit.engine.report_runs import dns_warnings, outputs_html, outputs_markdown, run_lines, ttl_changes


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
    failures: list[tuple[str, list[str]]] = field(default_factory=list)
    """Each failure or interruption (also of a step later retried, skipped or marked done), with the last
    output lines at that moment."""

    @property
    def of_plan(self) -> bool:
        """A step of the plan, not the output of a retreat (`(park)`, `(undo STEP)`), which no step id can be."""
        return not self.step_id.startswith("(")


@dataclass
class Timeline:
    plan_name: str = ""
    runs: int = 0
    first: float | None = None
    last: float | None = None
    outcome: str = "unfinished (the cockpit stopped without closing the run)"
    steps: dict[str, StepLine] = field(default_factory=dict)
    flips: list[dict[str, Any]] = field(default_factory=list)
    mail: list[dict[str, Any]] = field(default_factory=list)
    runs_text: list[str] = field(default_factory=list)
    """Each start, resume and end of the cockpit, one line each."""
    ttls: list[tuple[str, str, str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    operator: str = ""
    """Inventory, sync and verify results, in journal order."""
    mx_states: tuple[str, ...] = ()
    dns: list[tuple[float, tuple[str, str], str]] = field(default_factory=list)
    """(when, (domain, nameserver), MX state) in journal order: flips and each run's first sight of every pair."""
    dns_now: dict[tuple[str, str], str] = field(default_factory=dict)
    """The last MX state the journal knows for each pair."""
    downtime: DowntimeClock = field(default_factory=DowntimeClock)
    forecast: ForecastReport | None = None


def build_timeline(records: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> Timeline:
    timeline = Timeline()
    open_intents: set[str] = set()
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
            timeline.operator = str(record.get("operator") or "")
            for step_id, title in zip(record.get("step_ids", []), record.get("step_titles", []), strict=False):
                timeline.steps.setdefault(step_id, StepLine(step_id, title)).title = title
            _interrupted(timeline, open_intents)
            timeline.outcome = "unfinished (the cockpit stopped without closing the run)"
        elif kind == "RunFinished":
            timeline.outcome = f"{record.get('outcome')} (exit {record.get('exit_code')})"
        elif kind == "StepIntent":
            open_intents.add(str(record["step_id"]))
        elif kind == "StepChanged":
            line = timeline.steps.setdefault(record["step_id"], StepLine(record["step_id"]))
            state = str(record.get("state"))
            if state in ("running", "awaiting-confirmation", "waiting-dns", "counting-down") and line.started is None:
                line.started = at
            if state not in ("pending", "ready"):
                line.result, line.detail = state, str(record.get("detail", ""))
            if state in ("done", "failed", "skipped", "interrupted"):
                line.ended = at
                open_intents.discard(line.step_id)
            if state == "failed":
                line.failures.append((f"failed: {line.detail}", line.output[-OUTPUT_LINES:]))
        elif kind == "Decision" and record.get("action") in ("go", "rerun", "mark-done"):
            line = timeline.steps.setdefault(record["step_id"], StepLine(record["step_id"]))
            action, source = record.get("action"), str(record.get("source", ""))
            who = f"{source} {timeline.operator}" if source == "operator" and timeline.operator else source
            line.confirmed_by = who if action == "go" else f"{who} ({action})"
        elif kind == "OutputLine":
            line = timeline.steps.setdefault(record["step_id"], StepLine(record["step_id"]))
            line.output.append(f"{record.get('host')} {record.get('stream')}: {record.get('text')}")
            del line.output[:-OUTPUT_LINES]
        elif kind == "DnsFlip":
            timeline.flips.append(record)
            _dns_seen(timeline, at, (str(record["domain"]), str(record["nameserver"])), str(record["after"]))
        elif kind in MAIL_RECORDS:
            timeline.mail.append(record)
        elif kind == "DnsStates":
            for domain, nameserver, state, *_ in record.get("pairs", ()):
                pair, known = (str(domain), str(nameserver)), timeline.dns_now.get((str(domain), str(nameserver)))
                if known is not None and known != state:
                    timeline.flips.append({"at": at, "domain": domain, "nameserver": nameserver, "before": known,
                                           "after": state, "ttl": None, "unwatched": True})  # fmt: skip
                _dns_seen(timeline, at, pair, str(state))
    _interrupted(timeline, open_intents)
    timeline.downtime = DowntimeClock.from_records(records)
    listed = list(records)
    timeline.forecast = forecast_report(listed, timeline.downtime)
    timeline.runs_text = run_lines(listed)
    timeline.ttls = ttl_changes(listed)
    timeline.warnings = dns_warnings(listed, timeline.mx_states[-1] if timeline.mx_states else None)
    return timeline


def _interrupted(timeline: Timeline, open_intents: set[str]) -> None:
    """Steps that had started changing a server when the cockpit stopped (intent without outcome)."""
    for step_id in sorted(open_intents):
        line = timeline.steps.setdefault(step_id, StepLine(step_id))
        line.result = "interrupted"
        what = "interrupted: the cockpit stopped during the step — outcome unknown"
        line.failures.append((what, line.output[-OUTPUT_LINES:]))
    open_intents.clear()


OUTPUT_LINES = 20
"""Output lines kept per step for the failures section."""


def _dns_seen(timeline: Timeline, at: object, pair: tuple[str, str], state: str) -> None:
    if isinstance(at, int | float):
        timeline.dns.append((float(at), pair, state))
    timeline.dns_now[pair] = state


def _clock(at: float | None) -> str:
    return format_timestamp(at) if at is not None else "—"


def _span(start: float | None, end: float | None) -> str:
    return format_duration(end - start) if start is not None and end is not None else "—"


def render_markdown(timeline: Timeline) -> str:
    out = [f"# Run report: {visible(timeline.plan_name)}", ""]
    out.append(f"- Outcome: {visible(timeline.outcome)}")
    out.append(f"- From {_clock(timeline.first)} to {_clock(timeline.last)} ({timeline.runs} run(s) of the cockpit)")
    out.append(f"- Downtime window: {visible(_downtime_text(timeline))}")
    out += [f"- Warning: {warning}" for warning in timeline.warnings]
    out += ["", "## Runs", "", *(f"- {line}" for line in timeline.runs_text)]
    out += ["", "## Steps", "", "| step | title | started | ended | duration | result | confirmed by |",
            "|---|---|---|---|---|---|---|"]  # fmt: skip
    for line in timeline.steps.values():
        if not line.of_plan:
            continue
        out.append(
            f"| {_md(line.step_id)} | {_md(line.title)} | {_clock(line.started)} | {_clock(line.ended)} | "
            f"{_span(line.started, line.ended)} | {_md(line.result)} | {_md(line.confirmed_by or '—')} |"
        )
    out += ["", "## DNS changes", ""]
    if timeline.flips:
        out += ["| time | domain | nameserver | from | to | TTL |", "|---|---|---|---|---|---|"]
        for flip in timeline.flips:
            out.append(
                f"| {_clock(flip['at'])} | {_md(flip['domain'])} | {_md(flip['nameserver'])} | "
                f"{_md(str(flip.get('before') or '—'))} | {_md(str(flip['after']))} | {_ttl(flip)} |"
            )
    else:
        out.append("No nameserver changed its MX during the run.")
    if timeline.ttls:
        out += ["", "MX TTL changes:", "", "| time | domain | nameserver | TTL |", "|---|---|---|---|"]
        out += [f"| {when} | {_md(d)} | {_md(ns)} | {change} |" for when, d, ns, change in timeline.ttls]
    out += forecast_markdown(timeline.forecast)
    out += mail_markdown(timeline.mail)
    failures = [line for line in timeline.steps.values() if line.failures]
    if failures:
        out += ["", "## Failures", ""]
        for line in failures:
            out += [f"### {line.step_id} (finally {_md(line.result)})", ""]
            for what, output in line.failures:
                out += [f"- {visible(what)}", "", "```", *(_fenced(o) for o in output or ["(no output)"]), "```", ""]
    out += outputs_markdown({line.step_id: line.output for line in timeline.steps.values()})
    return "\n".join(out) + "\n"


def _downtime_text(timeline: Timeline) -> str:
    clock = timeline.downtime
    start, end = clock.started, clock.ended
    if start is None:
        return "not measured (no nameserver left the first MX state during the run)"
    if end is None:
        last = timeline.mx_states[-1]
        behind = ", ".join(
            f"{nameserver} serves '{state}' for {domain}"
            for (domain, nameserver), state in sorted(timeline.dns_now.items())
            if state != last
        )
        return f"from {_clock(start)}, still open (not every nameserver serves '{last}': {behind})"
    how = "" if clock.proven else " (every nameserver serves the last MX state; no step proved the new MTA listens)"
    return f"{format_duration(end - start)}, from {_clock(start)} to {_clock(end)}{how}"


def _ttl(flip: dict[str, Any]) -> str:
    if flip.get("unwatched"):
        return "— (flipped while no cockpit watched)"
    return str(flip.get("ttl") or "—")


def _md(text: str) -> str:
    return visible(text.replace("\n", " ")).replace("|", "\\|")


def _fenced(line: str) -> str:
    """An output line inside a Markdown code block: shown as it was, but never able to close the block."""
    text = visible(line)
    return "\u200b" + text if text.startswith("```") else text


def render_html(timeline: Timeline) -> str:
    def esc(value: object) -> str:
        return html.escape(visible(str(value)))

    rows = "".join(
        f"<tr class='{esc(s.result)}'><td>{esc(s.step_id)}</td><td>{esc(s.title)}</td><td>{esc(_clock(s.started))}</td>"
        f"<td>{esc(_clock(s.ended))}</td><td>{esc(_span(s.started, s.ended))}</td><td>{esc(s.result)}</td>"
        f"<td>{esc(s.confirmed_by or '—')}</td></tr>"
        for s in timeline.steps.values()
        if s.of_plan
    )
    flips = "".join(
        f"<tr><td>{esc(_clock(f['at']))}</td><td>{esc(f['domain'])}</td><td>{esc(f['nameserver'])}</td>"
        f"<td>{esc(f.get('before') or '—')}</td><td>{esc(f['after'])}</td><td>{esc(_ttl(f))}</td></tr>"
        for f in timeline.flips
    )
    ttls = "".join(
        f"<tr><td>{esc(when)}</td><td>{esc(d)}</td><td>{esc(ns)}</td><td>{esc(change)}</td></tr>"
        for when, d, ns, change in timeline.ttls
    )
    if ttls:
        head = "<tr><th>time</th><th>domain</th><th>nameserver</th><th>TTL</th></tr>"
        ttls = f"<p>MX TTL changes:</p><table>{head}{ttls}</table>"
    failures = "".join(
        f"<h3>{esc(s.step_id)} (finally {esc(s.result)})</h3>"
        + "".join(
            f"<p>{esc(what)}</p><pre>{html.escape(visible(chr(10).join(output), newlines=True)) or '(no output)'}</pre>"
            for what, output in s.failures
        )
        for s in timeline.steps.values()
        if s.failures
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
<li>Downtime window: <strong>{esc(_downtime_text(timeline))}</strong></li>
{"".join(f"<li class='failed'>Warning: {esc(w)}</li>" for w in timeline.warnings)}</ul>
<h2>Runs</h2><ul>{"".join(f"<li>{esc(line)}</li>" for line in timeline.runs_text)}</ul>
<h2>Steps</h2><table><tr><th>step</th><th>title</th><th>started</th><th>ended</th><th>duration</th><th>result</th>
<th>confirmed by</th></tr>{rows}</table>
<h2>DNS changes</h2><table><tr><th>time</th><th>domain</th><th>nameserver</th><th>from</th><th>to</th><th>TTL</th></tr>
{flips}</table>
{ttls}
{forecast_html(timeline.forecast)}
{mail_html(timeline.mail)}
{"<h2>Failures</h2>" + failures if failures else ""}
{outputs_html({line.step_id: line.output for line in timeline.steps.values()})}
</body></html>
"""
