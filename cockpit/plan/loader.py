"""Reading a plan file: bytes to a validated Plan, or every problem found, each with its line and column."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cockpit.base.units import format_size
from cockpit.plan.crossrefs import check_references
from cockpit.plan.domains_file import expand_domains_file
from cockpit.plan.issues import Mark, PlanError, PlanIssue
from cockpit.plan.located import LocatedData, TooLarge, to_data
from cockpit.plan.located import Path as DataPath
from cockpit.plan.models import Plan
from cockpit.plan.step_shapes import normalize_steps
from cockpit.plan.validation import describe_errors
from cockpit.plan.yaml_tree import ScalarNode, YamlSyntaxError, parse_tree

MAX_BYTES = 1_000_000
"""A plan is a few kilobytes; a larger file is refused before YAML parsing begins."""


PlanCheck = Callable[[dict[str, Any]], list[tuple[DataPath, str]]]
"""A check from a layer above the plan's: normalized plan data in, (path in the data, message) out."""


@dataclass(frozen=True)
class PlanFile:
    """A loaded plan with where it came from and the digest the journal pins it by."""

    plan: Plan
    path: Path
    sha256: str


class PlanFileError(Exception):
    """The plan file could not be read at all (missing, unreadable, a directory)."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")


def load_plan(path: str | os.PathLike[str], *, checks: Sequence[PlanCheck] = ()) -> PlanFile:
    """Read and validate a plan file; raises PlanFileError or PlanError. `checks` add what the plan layer
    cannot know (a DNS provider's options): their problems are located like every other."""
    file = Path(path)
    source = str(path)
    try:
        with file.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise PlanFileError(source, "no such file") from None
    except IsADirectoryError:
        raise PlanFileError(source, "is a directory, not a plan file") from None
    except OSError as exc:
        raise PlanFileError(source, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        size = file.stat().st_size
        raise PlanError(
            [
                PlanIssue(
                    source,
                    Mark(1, 1),
                    f"the file is {format_size(size)}; a plan is at most {format_size(MAX_BYTES)}",
                )
            ]
        )
    plan = parse_plan(data, source, checks=checks, base_dir=file.parent)
    digest = hashlib.sha256(data)
    if plan.domains_file is not None:
        digest.update(b"\0domains_file\0" + "\n".join(plan.domains).encode())  # the domains are part of the plan
    return PlanFile(plan, file, digest.hexdigest())


def parse_plan(
    content: bytes | str,
    source: str = "<plan>",
    *,
    checks: Sequence[PlanCheck] = (),
    base_dir: Path | None = None,
) -> Plan:
    """Validate plan text; raises PlanError listing every problem found. A `domains_file` is read from
    `base_dir` (default: the folder of `source`)."""

    def fail(mark: Mark, message: str) -> PlanError:
        return PlanError([PlanIssue(source, mark, message)])

    if isinstance(content, bytes):
        if len(content) > MAX_BYTES:
            raise fail(
                Mark(1, 1),
                f"the text is {format_size(len(content))}; a plan is at most {format_size(MAX_BYTES)}",
            )
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            before = content[: exc.start]
            line = before.count(b"\n") + 1
            column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
            raise fail(
                Mark(line, column), f"invalid UTF-8 (byte 0x{content[exc.start]:02x}); save the plan as UTF-8"
            ) from None
    else:
        text = content
    try:
        root = parse_tree(text)
    except YamlSyntaxError as exc:
        raise fail(exc.mark, exc.message) from None
    if root is None or (isinstance(root, ScalarNode) and root.plain and not root.text.strip()):
        raise fail(Mark(1, 1), "the file is empty; a plan starts with 'version: 1'")
    try:
        located = to_data(root)
    except TooLarge as exc:
        raise fail(exc.mark, "aliases expand to too many values (an alias bomb?); this is not a plan") from None
    if not isinstance(located.data, dict):
        shape = "a list" if isinstance(located.data, list) else "a single value"
        raise fail(root.mark, f"a plan is a mapping of keys (version, name, domains, ...), not {shape}")
    return _validate(located, source, checks, Path(source).parent if base_dir is None else base_dir)


def _validate(located: LocatedData, source: str, checks: Sequence[PlanCheck], base_dir: Path) -> Plan:
    normalize_steps(located)
    domains = expand_domains_file(located, base_dir, source)
    problems = list(located.problems) + domains.in_plan
    flagged = {mark for mark, _ in problems}
    plan: Plan | None = None
    try:
        plan = Plan.model_validate(located.data)
    except ValidationError as exc:
        problems.extend(item for item in describe_errors(exc, located) if item[0] not in flagged)
    problems.extend(check_references(located))
    if isinstance(located.data, dict):
        for check in checks:
            problems.extend((located.where(path), message) for path, message in check(located.data))
    if problems or domains.in_file:
        unique = {(mark, message) for mark, message in problems}
        raise PlanError([PlanIssue(source, mark, message) for mark, message in unique] + domains.in_file)
    assert plan is not None
    return plan
