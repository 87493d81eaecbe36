"""mx-cockpit: a full-screen cockpit for moving a domain's mail to a new server without losing mail."""

from __future__ import annotations

__version__ = "0.1.0"
