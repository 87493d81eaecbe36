"""The JSON Schema of plan v1 as the file is written (steps in their `- kind: ...` form), for editors."""

from __future__ import annotations

import copy
from typing import Any

from cockpit.plan.models import Plan
from cockpit.plan.step_base import COMMON_KEYS
from cockpit.plan.steps import SCALAR_FIELD, STEP_KINDS


def plan_schema() -> dict[str, Any]:
    """Plan.model_json_schema() with each step rewritten from its normalized model to its written shape."""
    schema = Plan.model_json_schema(by_alias=True, mode="validation")
    defs: dict[str, Any] = schema.setdefault("$defs", {})
    shapes = []
    for kind, model in STEP_KINDS.items():
        body = copy.deepcopy(defs.pop(model.__name__))
        props: dict[str, Any] = body["properties"]
        props.pop("kind", None)
        common = {key: props[key] for key in COMMON_KEYS}
        required = [key for key in body.get("required", []) if key not in ("kind", "id")]
        body["required"] = required
        if not required:
            body.pop("required")
        written: Any = body
        if kind in SCALAR_FIELD:
            written = {"anyOf": [props[SCALAR_FIELD[kind]], body]}
        shapes.append(
            {
                "type": "object",
                "description": model.__doc__ or kind,
                "properties": {kind: written, **common},
                "required": [kind],
                "additionalProperties": False,
            }
        )
    phase = defs["Phase"]
    phase["properties"]["steps"] = {"type": "array", "minItems": 1, "items": {"oneOf": shapes}}
    servers = schema["properties"]["nameservers"]
    servers["items"] = {
        "anyOf": [{"type": "string", "description": "host, ip, host:port or [v6]:port"}, servers["items"]]
    }
    schema["required"] = [key for key in schema.get("required", []) if key != "domains"]
    schema["oneOf"] = [{"required": ["domains"]}, {"required": ["domains_file"]}]
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "mx-cockpit plan v1"
    return schema
