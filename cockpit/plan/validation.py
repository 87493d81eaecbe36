"""Pydantic's validation errors rewritten as located lines a plan's author can act on."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from cockpit.plan.issues import Mark
from cockpit.plan.located import LocatedData, Path
from cockpit.plan.models import DnsSettings, Host, MxState, Nameserver, Phase, Plan, Secret
from cockpit.plan.step_base import StepBase
from cockpit.plan.step_shapes import did_you_mean, phase_label
from cockpit.plan.steps import STEP_KINDS

_SECRET_HINT = "a secret is never written in the plan; use {file: PATH} or {env: NAME}"


def context(data: Any, path: Path) -> str:
    """How a path is named in messages: `step 3 of phase 'before'`, `host 'old'`, `dns.interval`."""
    if len(path) >= 4 and path[0] == "phases" and path[2] == "steps" and isinstance(path[1], int):
        assert isinstance(path[3], int)
        where = f"step {path[3] + 1} of {phase_label(data, path[1])}"
        rest = path[4:]
    elif len(path) >= 2 and path[0] == "phases" and isinstance(path[1], int):
        where, rest = phase_label(data, path[1]), path[2:]
    elif len(path) >= 2 and path[0] in ("hosts", "secrets", "mx"):
        noun = {"hosts": "host", "secrets": "secret", "mx": "MX state"}[str(path[0])]
        where, rest = f"{noun} '{path[1]}'", path[2:]
    elif len(path) >= 2 and path[0] in ("nameservers", "domains") and isinstance(path[1], int):
        noun = {"nameservers": "nameserver", "domains": "domain"}[str(path[0])]
        where, rest = f"{noun} {path[1] + 1}", path[2:]
    else:
        return ".".join(str(part) for part in path)
    if rest:
        where += ": " + ".".join(str(part) for part in rest)
    return where


def _model_at(data: Any, path: Path) -> type[BaseModel] | None:
    """The model a mapping at `path` is validated as, for suggesting keys."""
    if path == ():
        return Plan
    head = path[0]
    if path == ("dns",):
        return DnsSettings
    if len(path) == 2 and head == "hosts":
        return Host
    if len(path) == 2 and head == "secrets":
        return Secret
    if len(path) == 2 and head == "mx":
        return MxState
    if len(path) == 2 and head == "nameservers":
        return Nameserver
    if len(path) == 2 and head == "phases":
        return Phase
    if len(path) == 4 and head == "phases" and path[2] == "steps":
        step = _get(data, path)
        if isinstance(step, dict) and step.get("kind") in STEP_KINDS:
            return STEP_KINDS[step["kind"]]
    return None


def _get(data: Any, path: Path) -> Any:
    for part in path:
        if isinstance(data, dict) and isinstance(part, str):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data


def _keys_of(model: type[BaseModel]) -> list[str]:
    keys = [field.alias or name for name, field in model.model_fields.items()]
    if issubclass(model, StepBase):
        keys = [key for key in keys if key != "kind"]
    return keys


def _clean_loc(loc: tuple[int | str, ...]) -> Path:
    """Drop the union tag pydantic inserts after a step's index."""
    parts = list(loc)
    if len(parts) >= 5 and parts[0] == "phases" and parts[2] == "steps" and parts[4] in STEP_KINDS:
        del parts[4]
    return tuple(parts)


def _simple_mx_state(data: Any, path: Path) -> Path:
    """An MX state written as records alone (`old: mail.old.net.`) is its `default`: say it as written."""
    if len(path) >= 3 and path[0] == "mx" and path[2] == "default" and not isinstance(_get(data, path[:2]), dict):
        return (*path[:2], *path[3:])
    return path


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def describe_errors(exc: ValidationError, located: LocatedData) -> list[tuple[Mark, str]]:
    """One (mark, message) per pydantic error."""
    found: list[tuple[Mark, str]] = []
    errors = exc.errors(include_url=False)
    paths = [_simple_mx_state(located.data, _clean_loc(error["loc"])) for error in errors]
    for error, path in zip(errors, paths, strict=True):
        kind = error["type"]
        if any(path[: len(bad)] == bad for bad in located.rejected):
            continue
        if kind == "too_short" and any(len(other) > len(path) and other[: len(path)] == path for other in paths):
            continue  # pydantic counts only the items that validated; the items' own errors say more
        secret = bool(path) and path[0] == "secrets"
        value = error.get("input")
        mark = located.where(path)
        if kind == "extra_forbidden":
            key = str(path[-1])
            parent = path[:-1]
            mark = located.where(path, key=True)
            if secret:
                message = f"unknown key '{key}': {_SECRET_HINT}"
            else:
                model = _model_at(located.data, parent)
                hint = did_you_mean(key, _keys_of(model)) if model else ""
                message = f"unknown key '{key}'{hint}"
            found.append((mark, _prefix(located.data, parent, message)))
            continue
        if path and path[-1] == "[key]":
            path = path[:-1]
            mark = located.where(path, key=True)
            value = path[-1] if path else value
        if kind == "missing":
            field = str(path[-1])
            message = f"missing required key '{field}'" + (" (or 'domains_file')" if path == ("domains",) else "")
            found.append((located.where(path[:-1]), _prefix(located.data, path[:-1], message)))
            continue
        if secret and kind in ("model_type", "model_attributes_type", "dict_type"):
            found.append((mark, _prefix(located.data, path, _SECRET_HINT)))
            continue
        found.append((mark, _prefix(located.data, path, _message(kind, error, value, secret))))
    return found


def _prefix(data: Any, path: Path, message: str) -> str:
    where = context(data, path)
    return f"{where}: {message}" if where else message


def _message(kind: str, error: Any, value: Any, secret: bool) -> str:
    got = "" if secret else f", got {_show(value)}"
    ctx = error.get("ctx") or {}
    if kind in ("value_error", "assertion_error"):
        text = str(ctx.get("error", error["msg"]))
        return text.removeprefix("Value error, ")
    if kind == "literal_error":
        return f"expected {ctx.get('expected', '')}{got}"
    if kind in ("string_type", "string_sub_type"):
        return f"expected text{got}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected a whole number{got}"
    if kind in ("float_type", "float_parsing"):
        return f"expected a number{got}"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false{got}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping (key: value){got}"
    if kind in ("tuple_type", "list_type", "sequence_str"):
        return f"expected a list{got}"
    if kind == "too_short":
        return "needs at least one entry" if ctx.get("min_length") == 1 else str(error["msg"]).lower()
    if kind == "string_too_short":
        return "must not be empty"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        bound = {"greater_than": "greater than", "greater_than_equal": "at least",
                 "less_than": "less than", "less_than_equal": "at most"}[kind]  # fmt: skip
        limit = next(iter(ctx.values()), "")
        return f"must be {bound} {limit}{got}"
    text = str(error["msg"])
    return text[:1].lower() + text[1:] + got
