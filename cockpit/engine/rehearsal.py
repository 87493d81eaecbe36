"""Rehearsals: the earlier journals of a plan (archived by `--fresh` as `PLAN.yaml.journal.YYYYmmdd-HHMMSS`),
read for the timings of steps the current journal has not measured yet (engine/forecast.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cockpit.engine.journal import JournalError, read_journal

KEPT = 3
"""The newest archives read: older rehearsals say little about tonight."""
ARCHIVE = re.compile(r"\.\d{8}-\d{6}(-\d+)?$")


def earlier_journals(journal: Path) -> list[list[dict[str, Any]]]:
    """The records of the newest archived journals of the plan, newest first; unreadable ones are passed over."""
    try:
        archives = [p for p in journal.parent.iterdir() if p.name.startswith(journal.name + ".")
                    and ARCHIVE.search(p.name[len(journal.name):])]  # fmt: skip
    except OSError:
        return []
    archives.sort(key=lambda p: p.name, reverse=True)
    found = []
    for path in archives[:KEPT]:
        try:
            found.append(list(read_journal(path).records))
        except (JournalError, OSError):
            continue
    return found
