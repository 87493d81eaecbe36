"""Host-key verification: the pinned known_hosts is always passed explicitly, so nothing can switch it off.

asyncssh treats a known_hosts argument of None as "trust anything" and an empty value as "use the default file", and it
lets `UserKnownHostsFile none` in ~/.ssh/config disable checking. We therefore load the file ourselves into
a known-hosts object (a missing or empty file trusts nothing) and hand that object over on every connect.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

import asyncssh

from cockpit.ssh.errors import ChangedHostKeyError, HostKeyError, UnknownHostKeyError

DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"


def known_hosts_path(configured: str | None, base_dir: Path) -> Path:
    """The plan host's known_hosts (relative to the plan's folder), else ~/.ssh/known_hosts."""
    path = Path(configured or DEFAULT_KNOWN_HOSTS).expanduser()
    return path if path.is_absolute() else base_dir / path


def load_known_hosts(path: Path) -> asyncssh.SSHKnownHosts:
    """The trusted keys in `path`; a file that does not exist trusts nothing (it is never skipped)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        text = ""
    except OSError as exc:
        raise OSError(f"cannot read known_hosts {path}: {exc.strerror}") from None
    return asyncssh.import_known_hosts(text)


@dataclass(frozen=True)
class OfferedKey:
    """The host key a server presented that known_hosts did not trust, kept to explain the refusal."""

    host: str
    address: str
    port: int
    key_type: str
    fingerprint: str
    pinned: int
    """How many keys known_hosts holds for this host: 0 means unknown, more means the key changed."""


def describe_offered(
    host: str, address: str, port: int, key: asyncssh.SSHKey, known: asyncssh.SSHKnownHosts
) -> OfferedKey:
    """Records what the server offered and what known_hosts holds for it."""
    trusted, ca_keys, *_ = known.match(host, address, port if port != 22 else None)
    return OfferedKey(
        host=host,
        address=address,
        port=port,
        key_type=key.get_algorithm(),
        fingerprint=key.get_fingerprint("sha256"),
        pinned=len(trusted) + len(ca_keys),
    )


def host_key_error(plan_host: str, offered: OfferedKey | None, known_hosts: Path, reason: str) -> HostKeyError:
    """The one-line refusal: which key, which file, and how to pin it after checking the fingerprint."""
    if offered is None:
        return HostKeyError(
            plan_host, f"host key not verified: {reason} (known_hosts {known_hosts})", known_hosts=str(known_hosts)
        )
    name = offered.host if offered.port == 22 else f"[{offered.host}]:{offered.port}"
    keyscan = "ssh-keyscan " + ("" if offered.port == 22 else f"-p {offered.port} ")
    keyscan += f"-t {_keyscan_type(offered.key_type)} {shlex.quote(offered.host)} >> {shlex.quote(str(known_hosts))}"
    details = {"key_type": offered.key_type, "fingerprint": offered.fingerprint, "known_hosts": str(known_hosts)}
    if offered.pinned:
        return ChangedHostKeyError(
            plan_host,
            f"HOST KEY CHANGED for {name}: the server offered {offered.key_type} {offered.fingerprint}, which "
            f"is not the key pinned in {known_hosts}; nothing was run. If the change is expected, check the "
            f"fingerprint with the host's administrator, remove the old entry "
            f"(ssh-keygen -R {shlex.quote(name)} -f {shlex.quote(str(known_hosts))}) and pin the new one: {keyscan}",
            **details,
        )
    return UnknownHostKeyError(
        plan_host,
        f"unknown host key for {name}: {offered.key_type} {offered.fingerprint} is not in {known_hosts}; "
        f"nothing was run. Check the fingerprint with the host's administrator, then pin it: {keyscan}",
        **details,
    )


def _keyscan_type(algorithm: str) -> str:
    """ssh-keyscan's -t name for a key algorithm (ssh-ed25519 → ed25519)."""
    if algorithm.startswith("ecdsa-sha2-"):
        return "ecdsa"
    if algorithm == "ssh-rsa":
        return "rsa"
    return algorithm.removeprefix("ssh-")
