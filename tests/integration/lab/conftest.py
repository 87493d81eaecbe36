"""The embedded lab, started for a test in its own folder, with HOME isolated so no real ~/.ssh is used."""

from __future__ import annotations

import pytest

from tests.support import isolated_home

home = pytest.fixture(autouse=True, name="home")(isolated_home)
