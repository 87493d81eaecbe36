"""The collector settings of long-running commands, checked in a process of their own."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import gc
from cockpit.base import collector
before = gc.get_threshold()
collector.settle()
after = gc.get_threshold()
frozen = gc.get_freeze_count()
collector.settle()
print(before[0], after[0], before[1:] == after[1:], frozen > 1000, gc.get_freeze_count() == frozen)
"""


def test_settle_freezes_what_exists_and_raises_the_youngest_threshold_once() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["700", "10000", "True", "True", "True"]
