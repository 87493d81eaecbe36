"""Shared test settings: the project root and sample plans."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample-plans"


@pytest.fixture
def samples() -> Path:
    return SAMPLES
