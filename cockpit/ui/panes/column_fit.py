"""Fitting the nameservers table to the pane's width, so that no line is ever wider than the pane.

The state, status, TTL, serial and flip time are short and always shown whole. When the MX does not fit
after them, it goes on a line of its own under the row if the pane has the height for that, and is cut
with an ellipsis otherwise (the state names the MX already when it is one of the plan's). Only when even
the first columns do not fit does the nameserver column give up room, down to a minimum.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from textual.content import Content

from cockpit.ui.panes.pair_line import COLUMNS, RIGHT_ALIGNED

LINE_COLUMNS = COLUMNS[:-1]
"""Every column but the MX, which is last and may move under its row."""
GAP = 2
MIN_NAMESERVER = 10
MX_INDENT = 2
MX_PREFIX = "MX "


@dataclass(frozen=True, slots=True)
class ColumnFit:
    widths: tuple[int, ...]
    """Widths of LINE_COLUMNS."""
    mx: int
    """Width of the MX text, inline or under the row."""
    below: bool
    """The MX goes on a second line under each row."""
    width: int


def natural_widths(rows: list[dict[str, Content]], headers: Mapping[str, str]) -> dict[str, int]:
    """The widest cell of each column, its header included."""
    widths = {column: len(headers[column]) for column in COLUMNS}
    for cells in rows:
        for column in COLUMNS:
            widths[column] = max(widths[column], cells[column].cell_length)
    return widths


def line_width(natural: Mapping[str, int]) -> int:
    return sum(natural[column] for column in LINE_COLUMNS) + GAP * (len(LINE_COLUMNS) - 1)


def fits_inline(natural: Mapping[str, int], width: int) -> bool:
    return line_width(natural) + GAP + natural["mx"] <= width


def fit_columns(natural: Mapping[str, int], width: int, *, below: bool) -> ColumnFit:
    """Column widths for `width` cells; `below` puts the MX under the row when it does not fit inline."""
    widths = [natural[column] for column in LINE_COLUMNS]
    used = line_width(natural)
    if fits_inline(natural, width):
        return ColumnFit(tuple(widths), natural["mx"], False, width)
    if below:
        widths[0] = max(MIN_NAMESERVER, widths[0] - max(0, used - width))
        return ColumnFit(tuple(widths), max(0, width - MX_INDENT - len(MX_PREFIX)), True, width)
    widths[0] = max(MIN_NAMESERVER, widths[0] - max(0, used - width))
    spare = width - (used - natural["nameserver"] + widths[0]) - GAP
    return ColumnFit(tuple(widths), max(0, spare), False, width)


def _cell(content: Content, width: int, column: str) -> Content:
    content = content.truncate(width, ellipsis=True)
    gap = width - content.cell_length
    return content.pad_left(gap) if column in RIGHT_ALIGNED else content.pad_right(gap)


def render_lines(cells: Mapping[str, Content], fit: ColumnFit) -> list[Content]:
    """One row as one or two lines of exactly `fit.width` cells or fewer."""
    parts = [_cell(cells[column], width, column) for column, width in zip(LINE_COLUMNS, fit.widths, strict=True)]
    first = Content(" " * GAP).join(parts)
    if not fit.below:
        if fit.mx > 0:
            first = Content.assemble(first, " " * GAP, cells["mx"].truncate(fit.mx, ellipsis=True))
        return [first.rstrip().truncate(fit.width, ellipsis=True)]
    second = Content.assemble(" " * MX_INDENT, (MX_PREFIX, "$text-muted"), cells["mx"].truncate(fit.mx, ellipsis=True))
    return [first.rstrip().truncate(fit.width, ellipsis=True), second.truncate(fit.width, ellipsis=True)]
