"""Every operator action in the command palette (ctrl+p), under the names the footer and help use."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

OPERATOR_COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("Go", "Confirm, run the proposed step, or retry a failed one (Enter)", "go"),
    ("Skip step", "Skip the proposed step, with a reason (s)", "skip"),
    ("Retry step", "Retry a failed step, or rerun an interrupted one (r)", "retry"),
    ("Mark done", "Mark an interrupted step as done (d)", "mark_done"),
    ("Abort step", "Stop the running step; it fails and can be retried (x)", "abort"),
    ("Pause or resume countdown", "Pause the countdown, or resume it (p)", "pause"),
    ("Extend countdown", "Add a minute to the countdown (+)", "extend"),
    ("Poll nameservers now", "Ask every nameserver now instead of waiting for the next round (g)", "poll"),
    ("Filter output", "Show only output lines containing a text (/)", "filter"),
    ("Follow output", "Scroll the output to the end and follow it", "follow"),
    ("Help", "Show every key (?)", "help"),
    ("Save screenshot", "Save an SVG screenshot of the screen (ctrl+s)", "screenshot"),
    ("Quit", "Stop the run and leave; the journal lets a later run resume (q)", "quit"),
)
"""(title, help, action on the cockpit screen)."""


class CockpitCommands(Provider):
    """Runs the action on the screen the palette was opened from."""

    async def discover(self) -> Hits:
        for title, help_text, action in OPERATOR_COMMANDS:
            yield DiscoveryHit(title, partial(self.screen.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, action in OPERATOR_COMMANDS:
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self.screen.run_action, action), help=help_text)
