"""Parts of the report about the runs themselves: each start, stop and resume on its own line (who ran it, in
which mode), the MX TTL changes the nameservers served, the last output of every step, and warnings about how
the DNS stood when the journal ends (a nameserver still serving an older serial, or not the last MX state)."""

from __future__ import annotations

import html
from typing import Any

from cockpit.base.safe_text import visible
from cockpit.base.units import format_timestamp


def _when(record: dict[str, Any]) -> str:
    at = record.get("at")
    return format_timestamp(float(at)) if isinstance(at, int | float) else "—"


def run_lines(records: list[dict[str, Any]]) -> list[str]:
    """`started (step mode) by root@jump` / `resumed ...` / `ended: done (exit 0)` / `stopped without closing`,
    the retreats in between (a park, an undo: what each changed and how it ended), and what the run said at its
    end (the lab's tally: `info: mail so far: lost 0 · duplicated 0`)."""
    lines: list[str] = []
    open_run = False
    ended = False
    for record in records:
        kind = record.get("type")
        if kind == "RunStarted":
            if open_run:
                lines.append("the cockpit stopped without closing the run (killed, or the machine went down)")
            how = "resumed" if record.get("resumed") else "started"
            who = f" by {visible(str(record['operator']))}" if record.get("operator") else ""
            dry = ", dry run" if record.get("dry_run") else ""
            lines.append(f"{_when(record)} {how} ({record.get('mode')} mode{dry}){who}")
            open_run, ended = True, False
        elif kind == "RunFinished":
            lines.append(f"{_when(record)} ended: {record.get('outcome')} (exit {record.get('exit_code')})")
            open_run, ended = False, True
        elif kind == "Notice" and ended:
            lines.append(visible(f"{_when(record)} {record.get('level')}: {record.get('text')}"))
        elif kind == "Retreat":
            what = f"{record.get('action')} {record.get('step_id')}".strip()
            lines.append(visible(f"{_when(record)} {what}: {record.get('outcome')}"))
        elif kind == "MxReplaced" and str(record.get("step_id", "")).startswith(RETREAT_STEPS):
            before, after = _records(record.get("before")), _records(record.get("after"))
            lines.append(visible(f"{_when(record)} {record.get('step_id')}: the MX of {record.get('domain')} "
                                 f"{before} → {after} via {record.get('via')}"))  # fmt: skip
    if open_run:
        lines.append("the journal ends while a run was open (the cockpit was killed, or still runs)")
    return lines


RETREAT_STEPS = ("park", "undo ")
"""The step_id of an MX change a retreat made (engine/retreat.py)."""


def _records(pairs: object) -> str:
    if not isinstance(pairs, list | tuple) or not pairs:
        return "(no MX)"
    return ", ".join(f"{pref if pref is not None else 10} {host}" for pref, host in pairs)


def ttl_changes(records: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """(when, domain, nameserver, `3600 s → 600 s`) for each TTL change seen (not the first sight)."""
    return [
        (_when(r), str(r.get("domain")), str(r.get("nameserver")), f"{r.get('before')} s → {r.get('after')} s")
        for r in records
        if r.get("type") == "DnsTtl" and r.get("before") is not None
    ]


def dns_warnings(records: list[dict[str, Any]], last_state: str | None) -> list[str]:
    """How the DNS stood at the journal's last view of it, where it is worth a second look."""
    latest: dict[tuple[str, str], tuple[str, int | None]] = {}
    for record in records:
        if record.get("type") == "DnsStates":
            for domain, nameserver, state, *rest in record.get("pairs", ()):
                latest[(str(domain), str(nameserver))] = (str(state), rest[0] if rest else None)
    warnings = []
    for domain in sorted({domain for domain, _ in latest}):
        pairs = {ns: value for (d, ns), value in latest.items() if d == domain}
        serials = {serial for _, serial in pairs.values() if serial is not None}
        if len(serials) > 1:
            newest = max(serials)
            for ns, (_, serial) in sorted(pairs.items()):
                if serial is not None and serial < newest:
                    warnings.append(f"the journal ends while {ns} still serves serial {serial} for {domain} "
                                    f"(others serve {newest})")  # fmt: skip
        if last_state is not None:
            for ns, (state, _) in sorted(pairs.items()):
                if state != last_state:
                    warnings.append(f"the journal ends while {ns} still serves '{state}' for {domain}")
    return [visible(warning) for warning in warnings]


def outputs_markdown(outputs: dict[str, list[str]]) -> list[str]:
    out: list[str] = []
    for step_id, lines in outputs.items():
        if lines:
            out += [f"### {visible(step_id)}", "", "```", *(_fenced(line) for line in lines), "```", ""]
    return ["", "## Last output of each step", "", *out] if out else []


def outputs_html(outputs: dict[str, list[str]]) -> str:
    parts = [
        f"<details><summary>{html.escape(visible(step_id))}</summary>"
        f"<pre>{html.escape(visible(chr(10).join(lines), newlines=True))}</pre></details>"
        for step_id, lines in outputs.items()
        if lines
    ]
    return "<h2>Last output of each step</h2>" + "".join(parts) if parts else ""


def _fenced(line: str) -> str:
    text = visible(line)
    return "\u200b" + text if text.startswith("```") else text
