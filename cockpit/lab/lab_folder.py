"""The lab's folder: the plan, the keys and known_hosts it writes, and the two hosts' sandboxes.

A folder is reused only when it is empty or holds an earlier lab (marked by `.cockpit-lab`); the earlier
lab's files are removed first, so message ids never collide with an earlier run's stores.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import time
from pathlib import Path

import asyncssh

from cockpit.lab.errors import LabError

MARKER = ".cockpit-lab"
PLAN = "plan.yaml"
TSIG_KEY = "tsig.key"
CLIENT_KEY = "id_ed25519"
KNOWN_HOSTS = "known_hosts"
OWNED = (PLAN, TSIG_KEY, CLIENT_KEY, CLIENT_KEY + ".pub", KNOWN_HOSTS, "old", "new", ".cockpit", MARKER)
"""Everything a lab writes into its folder (`.cockpit` holds the journals of runs of its plan)."""


def _reason(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()


def prepare_folder(directory: Path) -> Path:
    """The folder, created if needed and emptied of an earlier lab; LabError when it cannot be used."""
    directory = directory.expanduser().absolute()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        entries = [entry.name for entry in directory.iterdir()]
    except OSError as exc:
        raise LabError(f"cannot use {directory} for the lab: {_reason(exc)}") from None
    if entries and MARKER not in entries:
        raise LabError(f"{directory} is not empty and holds no earlier lab: give an empty or new folder")
    try:
        for name in OWNED:
            path = directory / name
            if name == ".cockpit" and path.is_dir() and not path.is_symlink():
                _keep_journals(path)
            elif path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
        (directory / MARKER).write_text("a folder of the mx-cockpit lab; `cockpit lab up` may empty it\n")
    except OSError as exc:
        raise LabError(f"cannot write the lab into {directory}: {_reason(exc)}") from None
    return directory


def _keep_journals(folder: Path) -> None:
    """Empty the journal folder of an earlier lab but keep its journals, archived as `--fresh` archives them:
    a run of the new lab's plan then reads them as rehearsals for its downtime forecast."""
    for path in folder.iterdir():
        if path.name.endswith(".journal"):
            stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(path.stat().st_mtime))
            path.rename(path.with_name(f"{path.name}.{stamp}"))
        elif ".journal." not in path.name or ".torn-" in path.name:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def write_tsig_key(path: Path, name: str) -> str:
    """A new HMAC-SHA256 key in the format `tsig-keygen` writes; returns its secret (base64) for the server."""
    secret = base64.b64encode(secrets.token_bytes(32)).decode()
    _write_private(path, f'key "{name}" {{\n\talgorithm hmac-sha256;\n\tsecret "{secret}";\n}};\n')
    return secret


def write_client_key(path: Path) -> Path:
    """A new unencrypted ed25519 client key (and its `.pub`); returns the public key file."""
    key = asyncssh.generate_private_key("ssh-ed25519", comment="cockpit-lab")
    _write_private(path, key.export_private_key().decode())
    public = path.with_name(path.name + ".pub")
    key.write_public_key(public)
    return public
