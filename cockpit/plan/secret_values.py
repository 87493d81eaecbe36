"""Reading a plan's secrets from their file or environment variable, wrapped so they never print.

A SecretValue's repr and str are redacted; only `reveal()` gives the text, and callers use it at the
last moment (building a TSIG keyring, answering a passphrase prompt).
"""

from __future__ import annotations

import os
from pathlib import Path

from cockpit.base.units import format_size
from cockpit.plan.models import Secret

MAX_SECRET_BYTES = 64_000


class SecretError(Exception):
    """A secret could not be read; the message names where from, never the value."""


class Redacted:
    """Secret material: str and f-strings give only the class's redacted repr, and pickling is refused."""

    __slots__ = ()

    def __str__(self) -> str:
        return repr(self)

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError(f"a {type(self).__name__} cannot be pickled")


class SecretValue(Redacted):
    """Secret text that does not show itself in repr, str, f-strings, logs or tracebacks."""

    __slots__ = ("_text", "origin")

    def __init__(self, text: str, origin: str) -> None:
        self._text = text
        self.origin = origin
        """Where it came from ("file /etc/x", "environment variable X"), safe to show."""

    def reveal(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"SecretValue(<redacted>, from {self.origin})"


def read_secret(secret: Secret, base_dir: Path | None = None) -> SecretValue:
    """The secret's text; a relative file path is taken from `base_dir` (the plan's folder)."""
    if secret.env is not None:
        value = os.environ.get(secret.env)
        if value is None:
            raise SecretError(f"environment variable {secret.env} is not set")
        return SecretValue(value, f"environment variable {secret.env}")
    assert secret.file is not None
    path = Path(secret.file).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_SECRET_BYTES + 1)
    except FileNotFoundError:
        raise SecretError(f"secret file {path} does not exist") from None
    except OSError as exc:
        raise SecretError(f"cannot read secret file {path}: {exc.strerror or type(exc).__name__}") from None
    if len(data) > MAX_SECRET_BYTES:
        raise SecretError(f"secret file {path} is larger than {format_size(MAX_SECRET_BYTES)}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SecretError(f"secret file {path} is not UTF-8 text") from None
    return SecretValue(text, f"file {path}")
