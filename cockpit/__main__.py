"""`python -m cockpit` runs the command line."""

from __future__ import annotations

from cockpit.cli import main

main()
