"""Shared test settings: the project root and sample plans."""

from __future__ import annotations

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
