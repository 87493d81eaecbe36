"""YAML text to a tree of located nodes, built from parser events without recursion.

Why not yaml.compose: its composer recurses (10,000 nested brackets end in RecursionError) and it cannot
bound depth or size. Building the tree from the event stream here lets us refuse hostile input early with a
line and column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from cockpit.plan.issues import Mark

MAX_DEPTH = 64
"""A plan nests about six levels; anything near this is not a plan."""

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Loader = yaml.SafeLoader


class YamlSyntaxError(Exception):
    """The text is not YAML we accept; carries the position and a message for the author."""

    def __init__(self, mark: Mark, message: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message


@dataclass(eq=False)
class ScalarNode:
    text: str
    plain: bool
    """Written without quotes or block style: subject to type resolution."""
    tag: str | None
    mark: Mark


@dataclass(eq=False)
class MappingNode:
    mark: Mark
    pairs: list[tuple[Node, Node]] = field(default_factory=list)


@dataclass(eq=False)
class SequenceNode:
    mark: Mark
    items: list[Node] = field(default_factory=list)


Node = ScalarNode | MappingNode | SequenceNode


def _mark(m: Any) -> Mark:
    if m is None:
        return Mark(1, 1)
    return Mark(m.line + 1, m.column + 1)


def _explain(problem: str | None, context: str | None) -> str:
    text = (problem or "not valid YAML").strip()
    if "tab" in text.lower() or "\\t" in text:
        return "a tab character is used for indentation; YAML needs spaces"
    if "nesting depth" in text:
        return f"nesting is deeper than {MAX_DEPTH} levels; this is not a plan"
    if context and context.strip() not in text:
        return f"YAML syntax: {text} ({context.strip()})"
    return f"YAML syntax: {text}"


def parse_tree(text: str) -> Node | None:
    """The single document of `text` as a node tree; None for an empty document."""
    root: Node | None = None
    stack: list[tuple[MappingNode | SequenceNode, list[Node]]] = []
    anchors: dict[str, Node] = {}
    documents = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            node: Node | None = None
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise YamlSyntaxError(_mark(event.start_mark), "the file holds more than one YAML document ('---')")
                continue
            if isinstance(event, yaml.AliasEvent):
                anchor = event.anchor or ""
                if anchor not in anchors:
                    raise YamlSyntaxError(_mark(event.start_mark), f"alias *{anchor} names no anchor")
                node = anchors[anchor]
            elif isinstance(event, yaml.ScalarEvent):
                plain = event.style is None or event.style == ""
                tag = None if (event.implicit[0] and plain) or (event.implicit[1] and not plain) else event.tag
                node = ScalarNode(event.value, plain and tag is None, tag, _mark(event.start_mark))
            elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                if len(stack) >= MAX_DEPTH:
                    raise YamlSyntaxError(
                        _mark(event.start_mark),
                        f"nesting is deeper than {MAX_DEPTH} levels; this is not a plan",
                    )
                collection: MappingNode | SequenceNode
                if isinstance(event, yaml.MappingStartEvent):
                    collection = MappingNode(_mark(event.start_mark))
                else:
                    collection = SequenceNode(_mark(event.start_mark))
                _check_tag(event.tag, event.implicit, event.start_mark)
                if event.anchor:
                    anchors[event.anchor] = collection
                stack.append((collection, []))
                continue
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                collection, children = stack.pop()
                if isinstance(collection, MappingNode):
                    collection.pairs = list(zip(children[0::2], children[1::2], strict=True))
                else:
                    collection.items = children
                node = collection
            else:
                continue
            if isinstance(event, yaml.ScalarEvent) and event.anchor:
                anchors[event.anchor] = node
            if stack:
                stack[-1][1].append(node)
            else:
                root = node
    except yaml.MarkedYAMLError as exc:
        mark = _mark(exc.problem_mark or exc.context_mark)
        lines = text.splitlines()
        line = lines[mark.line - 1] if 0 < mark.line <= len(lines) else ""
        if "\t" in line[: mark.column] and not line[: mark.column].replace("\t", " ").strip():
            raise YamlSyntaxError(mark, "a tab character is used for indentation; YAML needs spaces") from None
        raise YamlSyntaxError(mark, _explain(exc.problem, exc.context)) from None
    except yaml.reader.ReaderError as exc:
        raise YamlSyntaxError(
            _position_mark(text, exc.position), f"character {_char(exc.character)} is not allowed in YAML"
        ) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(Mark(1, 1), f"YAML syntax: {exc}") from None
    return root


def _check_tag(tag: str | None, implicit: bool, start: Any) -> None:
    if tag and not implicit and tag not in ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"):
        raise YamlSyntaxError(_mark(start), f"YAML tag {tag} is not supported in a plan")


def _position_mark(text: str, position: int) -> Mark:
    before = text[:position]
    line = before.count("\n") + 1
    column = position - (before.rfind("\n") + 1) + 1
    return Mark(line, column)


def _char(character: object) -> str:
    return repr(chr(character)) if isinstance(character, int) else repr(character)
