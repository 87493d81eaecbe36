"""The keyword options every Textual widget takes (name, id, classes, disabled), typed once for the panes."""

from __future__ import annotations

from typing import TypedDict


class WidgetOptions(TypedDict, total=False):
    name: str | None
    id: str | None
    classes: str | None
    disabled: bool
