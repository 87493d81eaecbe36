"""The movement keys of a list pane (up/down, home/end, page up/down), declared alike in every list."""

from __future__ import annotations

from textual.binding import Binding, BindingType


def navigation_bindings(
    scope: str, noun: str, *, up: str, down: str, first: str, last: str | None = None, page_up: str, page_down: str,
    page: str = "Page",
) -> list[BindingType]:  # fmt: skip
    """Bindings with ids `scope.up` …, tooltips about the `noun`s and the given actions (no End key without
    `last`); `page` starts the page keys' tooltips ("Page up")."""
    end: list[BindingType] = []
    if last is not None:
        end = [Binding("end", last, "Last", show=False, id=f"{scope}.last", tooltip=f"Select the last {noun}")]
    return [
        Binding("up,k", up, "Up", show=False, id=f"{scope}.up", tooltip=f"Select the previous {noun}"),
        Binding("down,j", down, "Down", show=False, id=f"{scope}.down", tooltip=f"Select the next {noun}"),
        Binding("home", first, "First", show=False, id=f"{scope}.first", tooltip=f"Select the first {noun}"),
        *end,
        Binding("pageup", page_up, "Page up", show=False, id=f"{scope}.page-up", tooltip=f"{page} up"),
        Binding("pagedown", page_down, "Page down", show=False, id=f"{scope}.page-down", tooltip=f"{page} down"),
    ]
