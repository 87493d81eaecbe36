"""What step kinds share during a run: the DNS watcher, SSH connections, secrets, and resumed state."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cockpit.engine.clock import Clock
from cockpit.engine.events import EventBus
from cockpit.engine.resume import ResumePoint
from cockpit.plan import Plan


@dataclass
class RunServices:
    plan: Plan
    base_dir: Path
    clock: Clock
    bus: EventBus
    resume: ResumePoint = field(default_factory=ResumePoint)

    def countdown_state(self, step_id: str) -> tuple[float, float, float | None, str] | None:
        """The deadline of a countdown that a previous run started, if any."""
        return self.resume.countdowns.get(step_id)

    def old_ttl(self) -> tuple[int | None, float, str]:
        """(TTL, since, explanation) for `countdown: old_ttl`; TTL None when it cannot be known."""
        return None, 0.0, "no DNS observations: the old MX TTL is unknown (watch the nameservers first)"

    async def start(self) -> None:
        """Start the services that run for the whole run."""

    async def close(self) -> None:
        """Stop them and close connections."""
