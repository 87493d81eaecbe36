"""Shared test settings: the project root and sample plans."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import Waits

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample-plans"


@pytest.fixture
def samples() -> Path:
    return SAMPLES


@pytest.fixture
def waits() -> Waits:
    """Bounded polling for effects on a host (no timing asserted)."""
    return Waits()


@pytest.fixture(autouse=True)
def _collectable_after_each_test() -> Iterator[None]:
    """A command run in this process (`cockpit watch` through click's runner) freezes the objects alive at
    its start out of the collector's way, as it should in its own process; here, the next tests' garbage
    must stay collectable, so the freeze is undone after each test."""
    yield
    if gc.get_freeze_count():
        gc.unfreeze()
