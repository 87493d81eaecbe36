"""The job output pane: the log, its `/` filter, the "N new lines" badge and a transfer's progress.

Repaints happen on a 0.25 s timer, in batches taken from the output buffer, whatever rate the job prints at.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Unpack

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, ProgressBar

from cockpit.base.units import format_duration, format_rate, format_size
from cockpit.engine.events import TransferProgress
from cockpit.ui.panes.output_buffer import OutputBuffer
from cockpit.ui.panes.output_log import OutputLog
from cockpit.ui.panes.widget_options import WidgetOptions

REPAINT_EVERY = 0.25


def transfer_text(event: TransferProgress) -> str:
    """`1.2 GB of 3.4 GB · 45.0 MB/s · 1m20s left`."""
    total = f" of {format_size(event.total_bytes)}" if event.total_bytes else ""
    eta = f" · {format_duration(event.eta)} left" if event.eta is not None else ""
    return f"{format_size(event.done_bytes)}{total} · {format_rate(event.rate)}{eta}"


class OutputPane(Vertical):
    """Output of the running step, stderr marked, a separator per step."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close_filter", "Clear filter", id="output.close-filter", tooltip="Clear the output filter"),
    ]

    DEFAULT_CSS = """
    OutputPane {
        #output-filter { display: none; height: 1; border: none; padding: 0 1; }
        &.-filtering #output-filter { display: block; }
        #output-transfer { display: none; height: 1; background: $boost; }
        &.-transfer #output-transfer { display: block; }
        #output-transfer-text { width: auto; padding: 0 1; text-wrap: nowrap; }
        #output-transfer-bar { width: 1fr; }
        #output-transfer-bar Bar { width: 1fr; }
    }
    """

    def __init__(
        self,
        buffer: OutputBuffer,
        transfer: Callable[[], TransferProgress | None],
        **options: Unpack[WidgetOptions],
    ) -> None:
        super().__init__(**options)
        self.buffer = buffer
        self.transfer = transfer
        self.border_title = "Output"
        self._shown_transfer: TransferProgress | None = None
        self._subtitle: str | None = None

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter output (Enter keeps it, Esc clears)", id="output-filter")
        yield OutputLog(self.buffer, id="output-log")
        with Horizontal(id="output-transfer"):
            yield Label(id="output-transfer-text", markup=False)
            yield ProgressBar(total=100, show_eta=False, id="output-transfer-bar")

    def on_mount(self) -> None:
        self.set_interval(REPAINT_EVERY, self.flush, name="output repaint")

    @property
    def log_view(self) -> OutputLog:
        return self.query_one(OutputLog)

    def flush(self) -> None:
        """Paint what arrived since the last repaint, refresh the badge and the transfer bar."""
        log = self.log_view
        batch, overflow, lost = self.buffer.take()
        if batch:
            log.add(batch, overflow, lost)
        else:
            log.seen()
        self._badge(log)
        self._transfer()

    def _badge(self, log: OutputLog) -> None:
        parts = []
        if log.filter_text:
            parts.append(f"filter: {log.filter_text}")
        if log.unseen:
            parts.append(f"{log.unseen:,} new lines · End follows")
        subtitle = " · ".join(parts)
        if subtitle != self._subtitle:  # setting it repaints the whole pane, even to the same text
            self._subtitle = self.border_subtitle = subtitle
        self.set_class(bool(log.unseen), "-unseen")

    def _transfer(self) -> None:
        event = self.transfer()
        if event is self._shown_transfer:
            return
        self._shown_transfer = event
        self.set_class(event is not None, "-transfer")
        if event is None:
            return
        self.query_one("#output-transfer-text", Label).update(transfer_text(event))
        bar = self.query_one(ProgressBar)
        if event.total_bytes:
            bar.update(total=event.total_bytes, progress=event.done_bytes)
        else:
            bar.update(total=None)

    def open_filter(self) -> None:
        """Show the filter input with the current filter text."""
        self.add_class("-filtering")
        field = self.query_one("#output-filter", Input)
        field.value = self.log_view.filter_text
        field.focus()

    @on(Input.Changed, "#output-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.log_view.set_filter(event.value)
        self._badge(self.log_view)
        self.refresh_bindings()

    @on(Input.Submitted, "#output-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self.remove_class("-filtering")
        self.log_view.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Esc clears a filter only while there is one (the footer then offers it, and only then)."""
        if action == "close_filter":
            return bool(self.log_view.filter_text) or self.has_class("-filtering")
        return True

    def action_close_filter(self) -> None:
        self.query_one("#output-filter", Input).value = ""
        self.log_view.set_filter("")
        self.remove_class("-filtering")
        self._badge(self.log_view)
        self.log_view.focus()
        self.refresh_bindings()


def output_keys() -> list[BindingType]:
    """The output's keys, for help: the log's (sideways) and the pane's."""
    return [*OutputLog.BINDINGS, *OutputPane.BINDINGS]
