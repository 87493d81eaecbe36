"""Located plan problems: each one renders as `PLAN:LINE:COL: message`."""

from __future__ import annotations

from dataclasses import dataclass

from cockpit.base.safe_text import visible


@dataclass(frozen=True, order=True)
class Mark:
    """A position in the plan file, 1-based like editors show it."""

    line: int
    column: int


@dataclass(frozen=True)
class PlanIssue:
    """One problem in a plan, with where it is."""

    source: str
    """The plan file as the user named it."""
    mark: Mark
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.mark.line}:{self.mark.column}: {printable(self.message)}"


def printable(text: str) -> str:
    """Escape control characters (a key named "\\n") so every problem stays on one line."""
    return visible(text)


class PlanError(Exception):
    """A plan that cannot be used; carries every problem found, in file order (a plan's domains file has its
    own problems, with its own name)."""

    def __init__(self, issues: list[PlanIssue]) -> None:
        self.issues = tuple(sorted(issues, key=lambda issue: (issue.source, issue.mark, issue.message)))
        super().__init__("\n".join(str(issue) for issue in self.issues))
