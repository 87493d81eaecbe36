"""The report's "Mail stores" part: every inventory (per mailbox), every sync pass (volume, duration, rate),
every drain (the old store quiet since when, and when the final copy from it started) and every verify verdict
with the folders that differed, from the journal's records."""

from __future__ import annotations

import html
from typing import Any

from cockpit.base.safe_text import visible
from cockpit.base.units import format_duration, format_rate, format_size, format_timestamp

MAIL_RECORDS = frozenset({"InventoryTaken", "SyncPass", "VerifyDone", "DrainObserved"})


def _cell(value: object) -> str:
    return visible(str(value).replace("\n", " ")).replace("|", "\\|")


def mail_markdown(records: list[dict[str, Any]]) -> list[str]:
    if not records:
        return []
    out = ["", "## Mail stores", ""]
    for record in records:
        kind, step = record.get("type"), _cell(record.get("step_id", ""))
        if kind == "InventoryTaken":
            out += [f"Inventory **{step}** of {_cell(record.get('store'))}:", "",
                    "| store | mailbox | folders | messages | size |", "|---|---|---|---|---|"]  # fmt: skip
            for name, folders, messages, size in record.get("mailboxes", ()):
                out.append(f"| {_cell(record.get('store'))} | {_cell(name)} | {folders} | {messages:,} | "
                           f"{format_size(size)} |")  # fmt: skip
            out.append("")
        elif kind == "SyncPass":
            out.append(f"- Sync **{step}**: {_sync_text(record)}")
        elif kind == "DrainObserved":
            out.append(f"- Drain **{step}**: {_cell(_drain_text(record, records))}")
        elif kind == "VerifyDone":
            mark = "✓" if record.get("ok") else "✗"
            out.append(f"- Verify **{step}** {mark} {_cell(record.get('verdict'))}")
            out += [f"  - {_cell(line)}" for line in record.get("lines", ())]
    return out


def mail_html(records: list[dict[str, Any]]) -> str:
    if not records:
        return ""

    def esc(value: object) -> str:
        return html.escape(visible(str(value)))

    parts = ["<h2>Mail stores</h2>"]
    for record in records:
        kind, step = record.get("type"), esc(record.get("step_id", ""))
        if kind == "InventoryTaken":
            rows = "".join(
                f"<tr><td>{esc(name)}</td><td>{folders}</td><td>{messages:,}</td><td>{esc(format_size(size))}</td></tr>"
                for name, folders, messages, size in record.get("mailboxes", ())
            )
            parts.append(f"<h3>Inventory {step} of {esc(record.get('store'))}</h3><table><tr><th>mailbox</th>"
                         f"<th>folders</th><th>messages</th><th>size</th></tr>{rows}</table>")  # fmt: skip
        elif kind == "SyncPass":
            parts.append(f"<p>Sync <strong>{step}</strong>: {esc(_sync_text(record))}</p>")
        elif kind == "DrainObserved":
            parts.append(f"<p>Drain <strong>{step}</strong>: {esc(_drain_text(record, records))}</p>")
        elif kind == "VerifyDone":
            css = "done" if record.get("ok") else "failed"
            lines = "".join(f"<li>{esc(line)}</li>" for line in record.get("lines", ()))
            parts.append(f"<p class='{css}'>Verify <strong>{step}</strong>: {esc(record.get('verdict'))}</p>"
                         + (f"<ul>{lines}</ul>" if lines else ""))  # fmt: skip
    return "\n".join(parts)


def _sync_text(record: dict[str, Any]) -> str:
    seconds, copy = float(record.get("seconds", 0.0)), float(record.get("copy_seconds", 0.0))
    size = int(record.get("bytes", 0))
    rate = f" ({format_rate(size / copy)})" if copy > 0 and size else ""
    return (
        f"{_cell(record.get('source'))} → {_cell(record.get('dest'))}: {int(record.get('messages', 0)):,} messages "
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
