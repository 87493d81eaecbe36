"""The host program as it travels: its modules joined into one source, compressed, inside a shell command.

Nothing is installed on a host. Each call sends `python3 -c 'exec(decompress(...))' MODE` (about 15 KiB,
far below the 128 KiB a single argument may have) and keeps stdin free for data. A host without python3,
or with one older than 3.6, fails with one line before anything runs.
"""

from __future__ import annotations

import base64
import functools
import re
import shlex
import zlib
from importlib import resources

MODULES = (
    "identity",
    "protocol",
    "locking",
    "mbox_format",
    "mbox_append",
    "maildir_format",
    "maildir_delivery",
    "inventory",
    "send",
    "receive",
    "main",
)
"""The host modules in an order where each comes after those it uses."""

NO_PYTHON_STATUS = 127
OLD_PYTHON_STATUS = 126
NO_PYTHON_TEXT = "cockpit-mail: python3 not found"
_SIBLING_IMPORT = re.compile(r"^from cockpit\.mail\.host\.\w+ import (?:\([^)]*\)|[^\n]*)\n", re.MULTILINE)


@functools.cache
def bundle_source() -> str:
    """All host modules as one Python 3.6 source, imports between them removed."""
    package = resources.files("cockpit.mail.host")
    parts = []
    for name in MODULES:
        text = (package / f"{name}.py").read_text(encoding="utf-8")
        parts.append(f"# ---- {name}\n" + _SIBLING_IMPORT.sub("", text))
    return "\n".join(parts)


@functools.cache
def _launcher() -> str:
    packed = base64.b64encode(zlib.compress(bundle_source().encode("utf-8"), 9)).decode("ascii")
    return (
        "import sys,zlib,base64\n"
        "if sys.version_info<(3,6):\n"
        " sys.stderr.write('cockpit-mail: python3 is '+sys.version.split()[0]+'; the mail steps need 3.6 or newer"
        "\\n');sys.exit(126)\n"
        f"exec(compile(zlib.decompress(base64.b64decode('{packed}')),'cockpit-mail','exec'))\n"
    )


def host_command(mode: str) -> str:
    """The command line for one call of the host program (run through the login shell by sshd)."""
    script = (
        f"command -v python3 >/dev/null 2>&1 || {{ echo '{NO_PYTHON_TEXT}' >&2; exit {NO_PYTHON_STATUS}; }}; "
        f"exec python3 -c {shlex.quote(_launcher())} {shlex.quote(mode)}"
    )
    return f"exec /bin/sh -c {shlex.quote(script)}"


def local_command(python: str, mode: str) -> list[str]:
    """The same program as an argument vector for a local interpreter (tests and benches)."""
    return [python, "-c", _launcher(), mode]
