"""Located nodes to plain Python data, with the position of every value and key kept by path.

Scalars are resolved the YAML 1.2 way (`NO` and `off` stay text, `0022` is not octal), and every plain
scalar that YAML 1.1 would have read differently is reported, so a plan means the same in every tool.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from cockpit.plan.issues import Mark
from cockpit.plan.yaml_tree import MappingNode, Node, ScalarNode, SequenceNode

Path = tuple[str | int, ...]

MAX_VALUES = 100_000
"""Values after alias expansion: a plan has a few hundred; a 'billion laughs' file has billions."""

_YAML11_BOOLS = {
    "yes": True, "no": False, "on": True, "off": False,
}  # fmt: skip
_NULLS = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}
_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_LEADING_ZERO_INT = re.compile(r"[-+]?0[0-9_]+")
_HEX_OCT = re.compile(r"0x[0-9a-fA-F]+|0o[0-7]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_SEXAGESIMAL = re.compile(r"[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?")
_STR_TAG = "tag:yaml.org,2002:str"


@dataclass(frozen=True)
class Located:
    """Where a value sits in the file, and where its key sits when it is a mapping value."""

    value: Mark
    key: Mark | None = None


@dataclass
class LocatedData:
    data: Any
    locations: dict[Path, Located] = field(default_factory=dict)
    problems: list[tuple[Mark, str]] = field(default_factory=list)
    rejected: set[Path] = field(default_factory=set)
    """Paths already reported as unusable; validation errors under them would only repeat the news."""

    def where(self, path: Path, *, key: bool = False) -> Mark:
        """The mark of `path`, or of its nearest located ancestor."""
        probe = path
        while probe:
            loc = self.locations.get(probe)
            if loc is not None:
                return loc.key if key and loc.key is not None else loc.value
            probe = probe[:-1]
        loc = self.locations.get(())
        return loc.value if loc else Mark(1, 1)


class TooLarge(Exception):
    def __init__(self, mark: Mark) -> None:
        super().__init__("too many values")
        self.mark = mark


def to_data(root: Node) -> LocatedData:
    """Convert the tree; raises TooLarge when aliases expand beyond MAX_VALUES."""
    out = LocatedData(None)
    counter = [0]
    out.data = _convert(root, (), out, counter, set())
    out.locations.setdefault((), Located(root.mark))
    return out


def _convert(node: Node, path: Path, out: LocatedData, counter: list[int], active: set[int]) -> Any:
    counter[0] += 1
    if counter[0] > MAX_VALUES:
        raise TooLarge(node.mark)
    if path not in out.locations:
        out.locations[path] = Located(node.mark)
    if isinstance(node, ScalarNode):
        return _scalar(node, out)
    if id(node) in active:
        out.problems.append((node.mark, "an alias refers to the collection that contains it"))
        return None
    active.add(id(node))
    try:
        if isinstance(node, SequenceNode):
            return [_convert(item, (*path, i), out, counter, active) for i, item in enumerate(node.items)]
        return _mapping(node, path, out, counter, active)
    finally:
        active.discard(id(node))


def _mapping(node: MappingNode, path: Path, out: LocatedData, counter: list[int], active: set[int]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    merged: dict[str, Any] = {}
    for key_node, value_node in node.pairs:
        if not isinstance(key_node, ScalarNode):
            out.problems.append((key_node.mark, "a key must be a plain name, not a list or mapping"))
            continue
        key = key_node.text
        if key == "<<" and key_node.plain:
            merged.update(_merge_source(value_node, path, out, counter, active))
            continue
        if key in result:
            first = out.locations[(*path, key)].key
            where = f" (first at line {first.line})" if first else ""
            out.problems.append((key_node.mark, f"duplicate key '{key}'{where}"))
            continue
        child = (*path, key)
        out.locations[child] = Located(value_node.mark, key_node.mark)
        result[key] = _convert(value_node, child, out, counter, active)
    for key, value in merged.items():
        result.setdefault(key, value)
    return result


def _merge_source(node: Node, path: Path, out: LocatedData, counter: list[int], active: set[int]) -> dict[str, Any]:
    sources = node.items if isinstance(node, SequenceNode) else [node]
    merged: dict[str, Any] = {}
    for source in sources:
        if not isinstance(source, MappingNode):
            out.problems.append((source.mark, "'<<' merges mappings only"))
            continue
        value = _mapping(source, path, out, counter, active)
        for key, item in value.items():
            merged.setdefault(key, item)
    return merged


def _scalar(node: ScalarNode, out: LocatedData) -> Any:
    text = node.text
    if node.tag is not None:
        if node.tag == _STR_TAG:
            return text
        out.problems.append((node.mark, f"YAML tag {node.tag} is not supported in a plan"))
        return text
    if not node.plain:
        return text
    if text in _NULLS:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    trap = _yaml11_trap(text)
    if trap is not None:
        out.problems.append((node.mark, trap))
        return text
    if _INT.fullmatch(text):
        return int(text)
    if _HEX_OCT.fullmatch(text):
        return int(text, 0)
    if _FLOAT.fullmatch(text):
        return float(text)
    lowered = text.lower()
    if lowered in (".inf", "+.inf", "-.inf", ".nan"):
        return float(lowered.replace(".", ""))
    return text


def _yaml11_trap(text: str) -> str | None:
    """What is wrong with a plain scalar that YAML 1.1 tools read otherwise than we do (kept as text)."""
    lowered = text.lower()
    if lowered in _YAML11_BOOLS:
        meaning = "true" if _YAML11_BOOLS[lowered] else "false"
        return (
            f"'{text}' is read as the boolean {meaning} by YAML 1.1 tools and as text by others: "
            f'quote it ("{text}") for text, or write {meaning}'
        )
    if _LEADING_ZERO_INT.fullmatch(text):
        digits = text.lstrip("+-").replace("_", "")
        octal = f" (octal {int(digits, 8)})" if re.fullmatch(r"[0-7]+", digits) else ""
        return (
            f"'{text}' has a leading zero, which YAML 1.1 tools read as an octal number{octal}: "
            f'write {int(digits, 10)} for the number, or quote it ("{text}") for text'
        )
    if _SEXAGESIMAL.fullmatch(text):
        return (
            f"'{text}' is read as a base-60 number by YAML 1.1 tools: quote it (\"{text}\") "
            "or write a duration like 1h30m"
        )
    return None
