"""The report's "Mail stores" part: every inventory (per mailbox), every sync pass (volume, duration, rate),
every drain (the old store quiet since when, and when the final copy from it started) and every verify verdict
with the folders that differed, from the journal's records."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from cockpit.base.safe_text import visible
from cockpit.base.units import format_duration, format_rate, format_size, format_timestamp

MAIL_RECORDS = frozenset({"InventoryTaken", "SyncPass", "VerifyDone", "DrainObserved"})


@dataclass(frozen=True, slots=True)
class _Entry:
    """One mail record as the report says it, before it is written as Markdown or HTML (raw text: each
    writer escapes for its own format)."""

    label: str
    step: str
    text: str = ""
    ok: bool | None = None
    """A verdict's outcome (verify); None where there is none."""
    lines: tuple[str, ...] = ()
    store: str = ""
    mailboxes: tuple[tuple[str, int, int, int], ...] = ()
    """An inventory's rows: mailbox, folders, messages, bytes."""


def _entries(records: list[dict[str, Any]]) -> list[_Entry]:
    out: list[_Entry] = []
    for record in records:
        kind, step = record.get("type"), str(record.get("step_id", ""))
        if kind == "InventoryTaken":
            rows = tuple((str(n), int(f), int(m), int(s)) for n, f, m, s in record.get("mailboxes", ()))
            out.append(_Entry("Inventory", step, store=str(record.get("store")), mailboxes=rows))
        elif kind == "SyncPass":
            out.append(_Entry("Sync", step, _sync_text(record)))
        elif kind == "DrainObserved":
            out.append(_Entry("Drain", step, _drain_text(record, records)))
        elif kind == "VerifyDone":
            lines = tuple(str(line) for line in record.get("lines", ()))
            out.append(_Entry("Verify", step, str(record.get("verdict")), ok=bool(record.get("ok")), lines=lines))
    return out


def _cell(value: object) -> str:
    return visible(str(value).replace("\n", " ")).replace("|", "\\|")


def mail_markdown(records: list[dict[str, Any]]) -> list[str]:
    if not records:
        return []
    out = ["", "## Mail stores", ""]
    for entry in _entries(records):
        step = _cell(entry.step)
        if entry.label == "Inventory":
            store = _cell(entry.store)
            out += [f"Inventory **{step}** of {store}:", "",
                    "| store | mailbox | folders | messages | size |", "|---|---|---|---|---|"]  # fmt: skip
            for name, folders, messages, size in entry.mailboxes:
                out.append(f"| {store} | {_cell(name)} | {folders} | {messages:,} | {format_size(size)} |")
            out.append("")
        elif entry.ok is None:
            out.append(f"- {entry.label} **{step}**: {_cell(entry.text)}")
        else:
            out.append(f"- {entry.label} **{step}** {'✓' if entry.ok else '✗'} {_cell(entry.text)}")
            out += [f"  - {_cell(line)}" for line in entry.lines]
    return out


def mail_html(records: list[dict[str, Any]]) -> str:
    if not records:
        return ""

    def esc(value: object) -> str:
        return html.escape(visible(str(value)))

    parts = ["<h2>Mail stores</h2>"]
    for entry in _entries(records):
        step = esc(entry.step)
        if entry.label == "Inventory":
            rows = "".join(
                f"<tr><td>{esc(name)}</td><td>{folders}</td><td>{messages:,}</td><td>{esc(format_size(size))}</td></tr>"
                for name, folders, messages, size in entry.mailboxes
            )
            parts.append(f"<h3>Inventory {step} of {esc(entry.store)}</h3><table><tr><th>mailbox</th>"
                         f"<th>folders</th><th>messages</th><th>size</th></tr>{rows}</table>")  # fmt: skip
            continue
        css = "" if entry.ok is None else f" class='{'done' if entry.ok else 'failed'}'"
        items = "".join(f"<li>{esc(line)}</li>" for line in entry.lines)
        parts.append(f"<p{css}>{entry.label} <strong>{step}</strong>: {esc(entry.text)}</p>"
                     + (f"<ul>{items}</ul>" if items else ""))  # fmt: skip
    return "\n".join(parts)


def _sync_text(record: dict[str, Any]) -> str:
    seconds, copy = float(record.get("seconds", 0.0)), float(record.get("copy_seconds", 0.0))
    size = int(record.get("bytes", 0))
    rate = f" ({format_rate(size / copy)})" if copy > 0 and size else ""
    return (
        f"{record.get('source')} → {record.get('dest')}: {int(record.get('messages', 0)):,} messages "
        f"({format_size(size)}) in {format_duration(seconds)}{rate}; the source held "
        f"{int(record.get('source_messages', 0)):,} ({format_size(int(record.get('source_bytes', 0)))})"
    )


def _drain_text(record: dict[str, Any], records: list[dict[str, Any]]) -> str:
    """`old-store quiet since T (last arrival T0); the final copy from it started at T2`: the proof that the
    last copy began after the old store stopped receiving."""
    store, at = record.get("store"), float(record.get("at", 0.0))
    quiet = record.get("quiet_since")
    last = record.get("last_arrival")
    text = f"{store} quiet since {format_timestamp(float(quiet))}" if isinstance(quiet, int | float) else f"{store}"
    text += (
        f" (last arrival {format_timestamp(float(last))})" if isinstance(last, int | float) else " (no arrival seen)"
    )
    after = [r for r in records if r.get("type") == "SyncPass" and r.get("source") == store
             and float(r.get("at", 0.0)) > at]  # fmt: skip
    if after:
        first = after[0]
        started = float(first.get("at", 0.0)) - float(first.get("seconds", 0.0))
        text += f"; the final copy from it ({first.get('step_id')}) started at {format_timestamp(started)}"
    else:
        text += "; no copy from it after that"
    return text
