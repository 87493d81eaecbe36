"""`cockpit demo --screenshots DIR`: an SVG of the screen (Textual's own export) each time the run enters a
phase, and one at its end, numbered in order: `01-before.svg`, `02-during.svg`, `03-after.svg`, `04-end.svg`."""

from __future__ import annotations

import re
from pathlib import Path


class PhaseShots:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.taken: list[str] = []
        self._phase: str | None = None

    def entered(self, phase: str | None) -> str | None:
        """The file name for a screenshot when `phase` is new, else None."""
        if phase is None or phase == self._phase:
            return None
        self._phase = phase
        return self._name(phase)

    def end(self) -> str:
        return self._name("end")

    def _name(self, what: str) -> str:
        slug = re.sub(r"[^A-Za-z0-9]+", "-", what).strip("-").lower() or "phase"
        name = f"{len(self.taken) + 1:02d}-{slug[:40]}.svg"
        self.taken.append(name)
        return name
