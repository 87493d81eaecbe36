"""The core layers never import textual or rich, checked in a fresh interpreter per module."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from importlib.util import find_spec

import pytest

CORE = [
    "cockpit.base",
    "cockpit.plan",
    "cockpit.dns",
    "cockpit.ssh",
    "cockpit.mail",
    "cockpit.engine",
    "cockpit.lab",
    "cockpit.headless",
]


def _core_modules() -> list[str]:
    found = []
    for package in CORE:
        spec = find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        found.append(package)
        for info in pkgutil.walk_packages(spec.submodule_search_locations, prefix=package + "."):
            found.append(info.name)
    return found


def test_the_plan_layer_exists() -> None:
    assert "cockpit.plan.loader" in _core_modules()


@pytest.mark.parametrize("module", _core_modules())
def test_core_module_does_not_pull_in_the_ui(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "", f"{module} imports {result.stdout.strip()}"


def test_the_check_is_able_to_see_textual() -> None:
    """Guard against a vacuous pass: the same probe does see textual when a module imports it."""
    code = "import sys, textual.app\nprint('textual' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "True"
