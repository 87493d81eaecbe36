"""`cockpit run` without `--headless`: the full-screen cockpit on a session the command line opened.

Signals stop the run cleanly, as in the headless runner: SIGHUP (the SSH session dropped) exits 129,
SIGTERM 143, an external SIGINT 130; the journal lets a later run resume.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.theme import BUILTIN_THEMES

from cockpit.engine.exit_codes import OVER_SSH_WARNING, SIGNAL_EXITS, over_ssh_outside_multiplexer
from cockpit.engine.observed_run import ObservedRun
from cockpit.engine.session import Session
from cockpit.ui.app import CockpitApp


def theme_names() -> list[str]:
    """Themes `--theme` accepts."""
    return sorted(BUILTIN_THEMES)


async def run_observer(run: ObservedRun, *, theme: str | None) -> int:
    """`cockpit observe`: the read-only cockpit following another cockpit's journal until q (exit 0) or a
    signal (its exit code)."""
    app = CockpitApp(run, theme=theme)
    result = await _run_app(app)
    return result if result is not None else 0


async def run_fullscreen(session: Session, *, theme: str | None, screenshots: Path | None = None) -> int:
    """Run the session's plan in the full-screen cockpit; returns the run's exit code.

    The screen starts the run's services once it listens to the bus (so no early event is missed); they are
    closed here at the end; the caller still closes the session. The app asks encrypted SSH keys'
    passphrases on its screen.
    """
    if theme is not None and theme not in BUILTIN_THEMES:
        raise ValueError(f"unknown theme {theme!r}: choose one of {', '.join(theme_names())}")
    warnings = []
    if over_ssh_outside_multiplexer():
        warnings.append(OVER_SSH_WARNING)
    app = CockpitApp(session.run, theme=theme, warnings=warnings, screenshots=screenshots)
    result = await _run_app(app)
    return result if result is not None else app.exit_code_of_run


async def _run_app(app: CockpitApp) -> int | None:
    """Run the app with the signals stopping it cleanly; close the run's services afterwards. The app's
    exit code, or None when it left without one."""
    loop = asyncio.get_running_loop()
    for signum, code in SIGNAL_EXITS.items():
        loop.add_signal_handler(signum, app.hangup, code)
    try:
        result = await app.run_async()
    finally:
        for signum in SIGNAL_EXITS:
            loop.remove_signal_handler(signum)
        await app.run_of_plan.services.close()
    return result if isinstance(result, int) else None
