"""How a run was asked to go: step or auto mode, a dry run, automatic answers."""

from __future__ import annotations

import getpass
import socket
from dataclasses import dataclass, field
from typing import Literal

Mode = Literal["step", "auto"]


@dataclass
class RunOptions:
    mode: Mode = "step"
    """step: confirm before each step; auto: run on until a confirm step, a server-changing step or a failure."""
    dry_run: bool = False
    yes: bool = False
    """Answer every gate and confirmation with yes; rerun interrupted steps only when idempotent."""
    decisions: dict[str, str] = field(default_factory=dict)
    """--decide STEP=WORD: rerun|done|skip for an interrupted step, retry|skip for a failed one; each used once."""


def operator_identity() -> str:
    """`user@host` of whoever runs this cockpit."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "?"
    return f"{user}@{socket.gethostname()}"
