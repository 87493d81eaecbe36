"""A scrolling list of pairs that draws only the lines in view (Textual's line API): 10,000 pairs cost what the
twenty visible ones cost. The rows are PairLines the pane chose (laggards, or what a filter matches); a
cursor selects one for the details line below."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.visual import Visual

from cockpit.ui.panes.column_fit import ColumnFit, render_lines
from cockpit.ui.panes.navigation import navigation_bindings
from cockpit.ui.panes.pair_line import PairLine


class PairTable(ScrollView, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = navigation_bindings(
        "pairs", "pair", up="cursor(-1)", down="cursor(1)", first="first", page_up="cursor(-10)",
        page_down="cursor(10)", page="Ten pairs",
    )  # fmt: skip

    DEFAULT_CSS = """
    PairTable {
        height: auto; max-height: 10; background: $surface; scrollbar-size-vertical: 1; overflow-x: hidden;
        & > .pair-table--cursor { background: $block-cursor-blurred-background; }
        &:focus > .pair-table--cursor { background: $block-cursor-background; color: $block-cursor-foreground; }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"pair-table--cursor"}

    class Selected(Message):
        def __init__(self, line: PairLine | None) -> None:
            super().__init__()
            self.line = line

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: list[PairLine] = []
        self.cursor = 0
        self.states: tuple[str, ...] = ()
        self.now = 0.0
        self.fit: ColumnFit | None = None

    def show(self, lines: list[PairLine], states: tuple[str, ...], now: float, fit: ColumnFit) -> None:
        """New rows (the same PairLine objects keep the cursor on their pair when the order changed)."""
        selected = self.lines[self.cursor] if self.lines and self.cursor < len(self.lines) else None
        self.lines, self.states, self.now, self.fit = lines, states, now, fit
        if selected is not None and lines and (self.cursor >= len(lines) or lines[self.cursor] is not selected):
            same = (i for i, line in enumerate(lines) if line is selected)
            self.cursor = next(same, min(self.cursor, len(lines) - 1))
        self.cursor = max(0, min(self.cursor, len(lines) - 1))
        self.virtual_size = Size(fit.width, len(lines))
        self.styles.height = min(len(lines), 10) or 1
        self.refresh()
        self.post_message(self.Selected(self.selected))

    @property
    def selected(self) -> PairLine | None:
        return self.lines[self.cursor] if self.lines else None

    def action_cursor(self, step: int) -> None:
        if not self.lines:
            return
        self.cursor = max(0, min(len(self.lines) - 1, self.cursor + step))
        self.scroll_to_region_of_cursor()
        self.refresh()
        self.post_message(self.Selected(self.selected))

    def action_first(self) -> None:
        self.action_cursor(-len(self.lines))

    def scroll_to_region_of_cursor(self) -> None:
        top, height = self.scroll_offset.y, self.scrollable_content_region.height
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif height and self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        index = self.scroll_offset.y + y
        if index >= len(self.lines) or self.fit is None or width <= 0:
            return Strip.blank(width, base)
        line = self.lines[index]
        content = render_lines(line.cells(self.states, self.now), self.fit)[0]
        strips = Visual.to_strips(self, content, width, 1, self.visual_style)
        strip = strips[0] if strips else Strip([])
        if index == self.cursor:
            cursor = base + self.get_component_rich_style("pair-table--cursor")
            return strip.apply_style(cursor).extend_cell_length(width, cursor)
        return strip.extend_cell_length(width, base)
