"""The countdown pane: large digits, a progress bar, what the wait is for, and whether it is paused or
extended. It shows the engine's ticks (the deadline lives in the engine); it keeps no time of its own."""

from __future__ import annotations

import math
from typing import Unpack

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Digits, Label, ProgressBar

from cockpit.base.units import format_duration
from cockpit.engine.events import CountdownSet, CountdownTick
from cockpit.ui.panes.widget_options import WidgetOptions


def clock_face(seconds: float) -> str:
    """`9:59`, `1:00:00`: whole seconds, rounded up so 0 shows only at the end."""
    whole = max(0, math.ceil(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class CountdownPane(Vertical):
    """Idle until a countdown step announces its deadline."""

    DEFAULT_CSS = """
    CountdownPane {
        height: auto;
        Digits { width: auto; }
        ProgressBar { width: 1fr; }
        ProgressBar Bar { width: 1fr; }
        #countdown-why { color: $text-muted; width: 1fr; height: auto; max-height: 3; }
        #countdown-state { text-style: bold; }
        &.-paused #countdown-state { color: $warning; }
        &.-paused Digits { color: $warning; }
        &.-finished Digits { color: $success; }
        #countdown-senders {
            display: none; color: $text-warning; width: 1fr; height: auto; max-height: 3; padding: 0 1;
        }
        &.-parked #countdown-senders { display: block; }
        &.-parked.-idle #countdown-face { display: none; }
    }
    """

    def __init__(self, **options: Unpack[WidgetOptions]) -> None:
        super().__init__(**options)
        self.border_title = "Countdown"
        self.step_id: str | None = None
        self.first_total = 0.0
        self.total = 0.0

    def compose(self) -> ComposeResult:
        with Horizontal(id="countdown-face"):
            yield Digits("--:--", id="countdown-digits")
            with Vertical(id="countdown-text"):
                yield ProgressBar(total=1, show_eta=False, id="countdown-bar")
                yield Label("no countdown yet", id="countdown-why", markup=False)
                yield Label("", id="countdown-state", markup=False)
        yield Label("", id="countdown-senders", markup=False)

    def on_mount(self) -> None:
        self.add_class("-idle")

    def announce(self, event: CountdownSet) -> None:
        """A deadline was set, paused, resumed or extended."""
        self._follow(event.step_id, event.total)
        self.border_title = self._countdown_title()
        self.query_one("#countdown-why", Label).update(event.why)
        if event.paused_remaining is not None:
            self._show(event.paused_remaining, event.total, paused=True)

    def tick(self, event: CountdownTick) -> None:
        self._follow(event.step_id, event.total)
        self._show(event.remaining, event.total, paused=event.paused)

    def _follow(self, step_id: str, total: float) -> None:
        """Take the countdown's current total; a new step's first total is the one extensions count from."""
        if step_id != self.step_id:
            self.step_id = step_id
            self.first_total = total
            self.remove_class("-idle", "-finished")
        self.total = total

    def senders(self, line: str | None) -> None:
        """While the MX is parked: how long senders have deferred mail and when they try again (None: not
        parked). Shown under a running countdown, or alone in this pane when none runs."""
        self.set_class(line is not None, "-parked")
        if line is not None:
            self.query_one("#countdown-senders", Label).update(line)
        idle = self.has_class("-idle")
        self.border_title = "Senders' view" if idle and line is not None else self._countdown_title()

    def _countdown_title(self) -> str:
        return f"Countdown · {self.step_id}" if self.step_id else "Countdown"

    def finished(self, step_id: str, how: str) -> None:
        """The countdown step ended (done, failed, skipped)."""
        if step_id != self.step_id:
            return
        self.remove_class("-paused")
        self.add_class("-finished", "-idle")
        self.query_one("#countdown-state", Label).update(how)

    def _show(self, remaining: float, total: float, *, paused: bool) -> None:
        self.query_one(Digits).update(clock_face(remaining))
        bar = self.query_one(ProgressBar)
        bar.update(total=max(total, 1.0), progress=max(0.0, total - remaining))
        words = []
        if paused:
            words.append("paused — p resumes")
        if total > self.first_total:
            words.append(f"extended by {format_duration(total - self.first_total)}")
        words.append(f"{format_duration(max(remaining, 0))} of {format_duration(total)} left")
        self.query_one("#countdown-state", Label).update(" · ".join(words))
        self.set_class(paused, "-paused")
