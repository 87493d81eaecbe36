"""The one error the lab raises for its users: a sentence, never a traceback."""

from __future__ import annotations


class LabError(Exception):
    """The lab cannot start (a port in use, a folder it cannot write): the message says what and where."""
