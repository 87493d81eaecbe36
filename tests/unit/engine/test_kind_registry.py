"""The kind registry is keyed by the step model each kind declares in its class statement."""

from __future__ import annotations

import pytest

from cockpit.engine.context import StepFailed
from cockpit.engine.kinds.base import KindOf
from cockpit.engine.kinds.registry import KINDS, make_kind
from cockpit.engine.kinds.ssh import SshKind
from cockpit.plan import SshStep, StepBase
from cockpit.plan.steps import STEP_KINDS


def test_every_plan_step_kind_has_exactly_its_runner() -> None:
    assert set(KINDS) == set(STEP_KINDS.values())
    for model, kind in KINDS.items():
        assert isinstance(kind, type) and issubclass(kind, KindOf)
        assert kind.step_type is model


def test_make_kind_builds_the_runner_with_its_step() -> None:
    step = SshStep.model_validate({"host": "old", "run": "true", "id": "s"})
    kind = make_kind(step)
    assert isinstance(kind, SshKind) and kind.step is step


def test_a_step_model_without_a_runner_is_a_step_failure() -> None:
    class Orphan(StepBase):
        kind: str = "orphan"

    with pytest.raises(StepFailed, match="no step kind runs 'Orphan'"):
        make_kind(Orphan.model_validate({"id": "o"}))
