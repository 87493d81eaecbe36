"""The embedded lab, started for a test in its own folder, with HOME isolated so no real ~/.ssh is used."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import isolated_home


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolated_home(tmp_path, monkeypatch)
