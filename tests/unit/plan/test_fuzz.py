"""Mutated sample plans: the loader returns a plan or located errors, never any other exception."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cockpit.plan import PlanError, parse_plan
from tests.conftest import SAMPLES

SOURCES = [yaml.safe_load(p.read_text()) for p in sorted(SAMPLES.glob("*.yaml"))]
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=True),
    st.text(max_size=12), st.sampled_from(["old", "new", "parking", "old_ttl", "10m", "NO", "0022", "a:b", "~"]),
)  # fmt: skip


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        node = node[part]
    return node


@st.composite
def mutated(draw: st.DrawFn) -> str:
    data = yaml.safe_load(yaml.safe_dump(draw(st.sampled_from(SOURCES))))
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(data) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent, key = _get(data, path[:-1]), path[-1]
        action = draw(st.sampled_from(["delete", "duplicate", "retype", "swap", "rename"]))
        if action == "delete":
            del parent[key]
        elif action == "duplicate" and isinstance(parent, list):
            parent.insert(key, parent[key])
        elif action == "retype":
            parent[key] = draw(
                st.one_of(
                    SCALARS,
                    st.lists(SCALARS, max_size=2),
                    st.dictionaries(st.text(max_size=5), SCALARS, max_size=2),
                )
            )
        elif action == "swap":
            other = draw(st.sampled_from(paths))
            if other[: len(path)] != path and path[: len(other)] != other:
                mine, theirs = _get(data, path), _get(data, other)
                parent[key] = theirs
                _get(data, other[:-1])[other[-1]] = mine
        elif action == "rename" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = parent.pop(key)
    text = yaml.safe_dump(data, sort_keys=False)
    if draw(st.booleans()):
        text = text.replace(": ", ":  ", 1).replace("\n", "\n" + draw(st.sampled_from(["", " ", "- "])), 1)
    return text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutations_give_a_plan_or_located_errors(text: str) -> None:
    try:
        parse_plan(text, "m.yaml")
    except PlanError as exc:
        assert exc.issues
        for issue in exc.issues:
            line = str(issue)
            assert line.startswith("m.yaml:")
            assert issue.mark.line >= 1 and issue.mark.column >= 1
            assert "\n" not in line


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_escape(data: bytes) -> None:
    try:
        parse_plan(data, "r.yaml")
    except PlanError as exc:
        assert exc.issues
