"""The scrollable job output: a Line API widget painting only the visible lines of the bounded history.

It follows the end while the operator is at the end; once they scroll up it keeps their place (even as old
lines fall out of the bounds) and counts what arrived meanwhile, for the "N new lines" badge. A line wider
than the pane ends in "…" (a hash or a command must not look whole); ←/→ scroll sideways to read the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Unpack

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from cockpit.base.safe_text import visible
from cockpit.ui.panes.output_buffer import Line, LineKind, OutputBuffer
from cockpit.ui.panes.widget_options import WidgetOptions

MARKS: dict[str, str] = {
    LineKind.STDOUT: "  ",
    LineKind.STDERR: "! ",
    LineKind.INFO: "· ",
}
"""The mark before a line of each stream (an unknown stream reads as stdout)."""


def clean(text: str) -> str:
    """A remote line as it may reach the terminal: styles dropped, other control sequences shown visibly."""
    return visible(text)


SIDE_STEP = 16
"""Columns one ←/→ press scrolls a long line by."""


def line_width(text: str) -> int:
    """Cells a line takes (ASCII, the usual case, by its length: no per-character look-up under a flood)."""
    return len(text) if text.isascii() else cell_len(text)


class OutputLog(ScrollView, can_focus=True):
    """The kept output lines, or those matching the filter."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "left,h", "side(-1)", "Scroll left", show=False, id="output.left", tooltip="Back to the start of long lines"
        ),
        Binding(
            "right,l",
            "side(1)",
            "Scroll right",
            show=False,
            id="output.right",
            tooltip="Read the rest of lines ending in …",
        ),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "output-log--stderr",
        "output-log--info",
        "output-log--separator",
    }

    DEFAULT_CSS = """
    OutputLog {
        overflow-x: auto;
        scrollbar-size-horizontal: 0;
        background: $surface;
        & > .output-log--stderr { color: $text-error; }
        & > .output-log--info { color: $text-muted; }
        & > .output-log--separator { color: $accent; text-style: bold; }
    }
    """

    def __init__(
        self,
        buffer: OutputBuffer,
        **options: Unpack[WidgetOptions],
    ) -> None:
        super().__init__(**options)
        self.buffer = buffer
        self.unseen = 0
        """Lines that arrived while the operator was scrolled away from the end."""
        self.filter_text = ""
        self._matches: list[Line] | None = None
        self._follow = True
        self._paint: _Paint | None = None
        self._widest = 0
        """The widest line kept so far (mark included): how far the pane scrolls sideways."""

    @property
    def view(self) -> Sequence[Line]:
        """What is shown: every kept line, or the filtered ones."""
        return self.buffer.lines if self._matches is None else self._matches

    @property
    def following(self) -> bool:
        """New lines scroll into view: until the operator scrolls up, and again once they are back at the end.

        A flag rather than the scroll position: the end moves away from the position when the pane shrinks
        (the transfer bar appears) or before the scrollbar exists, and neither is the operator scrolling up."""
        return self._follow

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(new_value) >= self.max_scroll_y:
            self._follow = True
        elif new_value < old_value:
            self._follow = False

    def on_resize(self) -> None:
        if self._follow:
            self._to_end()

    def _to_end(self) -> None:
        self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)

    def add(self, batch: list[Line], overflow: int, lost: int = 0) -> None:
        """Lines just taken from the buffer (`overflow` old ones fell out, `lost` new ones never made it in):
        keep the operator's place."""
        following = self.following
        shift = overflow
        if self._matches is not None:
            before = len(self._matches)
            self._matches.extend(line for line in batch if self._match(line))
            added = len(self._matches) - before
            shift = max(0, len(self._matches) - self.buffer.limit)
            del self._matches[:shift]
        else:
            added = len(batch) + lost
        self._widest = max(self._widest, max((line_width(line.text) + 2 for line in batch), default=0))
        self.virtual_size = Size(self._widest, len(self.view))
        if following:
            self.unseen = 0
            self._to_end()
        else:
            self.unseen += added
            if shift:
                self.scroll_to(y=max(0, self.scroll_offset.y - shift), animate=False, immediate=True)
        self.refresh()

    def set_filter(self, text: str) -> None:
        """Show only lines containing `text` (case-insensitive); an empty text shows everything."""
        self.filter_text = text.strip()
        needle = self.filter_text.lower()
        self._matches = None if not needle else [line for line in self.buffer.lines if self._match(line)]
        self.virtual_size = Size(self._widest, len(self.view))
        self.unseen = 0
        self._follow = True
        self._to_end()
        self.refresh()

    def action_side(self, direction: int) -> None:
        """Scroll sideways by SIDE_STEP columns (at most to where the widest line ends)."""
        self.scroll_to(x=max(0, self.scroll_offset.x + direction * SIDE_STEP), animate=False, immediate=True)

    def seen(self) -> None:
        """The operator is back at the end: nothing is unseen any more."""
        if self.following:
            self.unseen = 0

    def _match(self, line: Line) -> bool:
        return line.stream == LineKind.SEPARATOR or self.filter_text.lower() in line.text.lower()

    def render_lines(self, crop: Region) -> list[Strip]:
        """Look the styles up once per repaint rather than once per line: each look-up walks up the DOM,
        and under a flood the log repaints four times a second."""
        self._paint = self._paint_styles()
        try:
            return super().render_lines(crop)
        finally:
            self._paint = None

    def _paint_styles(self) -> _Paint:
        base = self.rich_style
        styles: dict[str, Style] = {
            kind: base + self.get_component_rich_style(f"output-log--{kind}")
            for kind in (LineKind.STDERR, LineKind.INFO, LineKind.SEPARATOR)
        }
        return _Paint(self.scrollable_content_region.width, round(self.scroll_offset.x), base, styles)

    def render_line(self, y: int) -> Strip:
        paint = self._paint or self._paint_styles()
        width, base = paint.width, paint.base
        index = self.scroll_offset.y + y
        view = self.view
        if index >= len(view) or width <= 0:
            return Strip.blank(width, base)
        line = view[index]
        stream = line.stream
        style = paint.styles.get(stream, base)
        if stream == LineKind.SEPARATOR:
            title = f"── {clean(line.text)} "
            rule = "─" * max(0, width - cell_len(title))
            return Strip([Segment(title + rule, style)]).crop_extend(0, width, base)
        mark, text = MARKS.get(stream, "  "), clean(line.text)
        strip = Strip([Segment(mark, style), Segment(text, style)])
        x = paint.x
        if x and strip.cell_length > x:  # scrolled sideways: the hidden start is said too
            strip = Strip([Segment("…", style), *strip.crop(x + 1, strip.cell_length)])
        elif x:
            return Strip.blank(width, base)
        if strip.cell_length > width:  # a cut line says so: a hash or a command must not look whole
            strip = Strip([*strip.crop(0, max(0, width - 1)), Segment("…", style)])
        return strip.extend_cell_length(width, base)


@dataclass(frozen=True, slots=True)
class _Paint:
    """What painting a line needs from the DOM, looked up once per repaint."""

    width: int
    x: int
    """How far the operator scrolled sideways."""
    base: Style
    styles: dict[str, Style]
