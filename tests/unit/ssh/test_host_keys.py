"""Host keys are always verified against the pinned known_hosts; nothing runs on an unverified host."""

from __future__ import annotations

import re
from pathlib import Path

import asyncssh
import pytest

from cockpit.lab.ssh_host import LabSshHost
from cockpit.plan import Host
from cockpit.ssh import ChangedHostKeyError, HostConnections, UnknownHostKeyError, run_command

PACKAGE = Path(__file__).resolve().parents[3] / "cockpit"


def pool(lab: LabSshHost, base: Path, **changes: object) -> HostConnections:
    return HostConnections({"old": Host.model_validate({**lab.plan_host(), **changes})}, base_dir=base)


async def test_an_unknown_key_fails_before_anything_runs(lab: LabSshHost, tmp_path: Path) -> None:
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    async with pool(lab, tmp_path, known_hosts=str(empty)) as hosts:
        with pytest.raises(UnknownHostKeyError) as caught:
            await hosts.connect("old")
    error = caught.value
    fingerprint = lab.host_key.get_fingerprint("sha256")
    assert fingerprint.startswith("SHA256:")
    assert (error.key_type, error.fingerprint) == ("ssh-ed25519", fingerprint)
    message = str(error)
    assert "\n" not in message
    assert message.startswith("old: unknown host key for [127.0.0.1]:")
    assert "ssh-ed25519" in message and fingerprint in message
    assert f"ssh-keyscan -p {lab.port} -t ed25519 127.0.0.1 >> {empty}" in message
    assert lab.commands == []


async def test_a_missing_known_hosts_file_trusts_nothing(lab: LabSshHost, tmp_path: Path) -> None:
    async with pool(lab, tmp_path, known_hosts="nowhere/known_hosts") as hosts:
        with pytest.raises(UnknownHostKeyError, match=r"nowhere/known_hosts"):
            await hosts.connect("old")
    assert lab.commands == []


async def test_a_changed_key_fails_before_anything_runs(lab: LabSshHost, tmp_path: Path) -> None:
    other = asyncssh.generate_private_key("ssh-ed25519")
    pinned = tmp_path / "known_hosts"
    pinned.write_text(lab.known_hosts_line(other))
    async with pool(lab, tmp_path, known_hosts="known_hosts") as hosts:
        with pytest.raises(ChangedHostKeyError) as caught:
            await hosts.connect("old")
    message = str(caught.value)
    assert "HOST KEY CHANGED" in message
    assert "ssh-ed25519 " + lab.host_key.get_fingerprint("sha256") in message
    assert f"ssh-keygen -R '[127.0.0.1]:{lab.port}'" in message
    assert other.get_fingerprint("sha256") not in message
    assert lab.commands == []


async def test_relative_known_hosts_resolve_against_the_plan_folder(lab: LabSshHost, tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "pinned").write_text(lab.known_hosts.read_text())
    async with pool(lab, tmp_path, known_hosts="keys/pinned") as hosts:
        assert (await run_command(await hosts.connect("old"), "true", host="old")).ok


async def test_default_known_hosts_is_the_users(lab: LabSshHost, tmp_path: Path, home: Path) -> None:
    async with pool(lab, tmp_path, known_hosts=None) as hosts:
        with pytest.raises(UnknownHostKeyError, match=re.escape(str(home / ".ssh" / "known_hosts"))):
            await hosts.connect("old")
    (home / ".ssh" / "known_hosts").write_text(lab.known_hosts.read_text())
    async with pool(lab, tmp_path, known_hosts=None) as hosts:
        assert (await run_command(await hosts.connect("old"), "true", host="old")).ok


@pytest.mark.parametrize(
    "settings",
    [
        "UserKnownHostsFile none\n  StrictHostKeyChecking no",
        "UserKnownHostsFile /dev/null\n  StrictHostKeyChecking no",
        "HostKeyAlias trusted.example\n  GlobalKnownHostsFile none",
    ],
)
async def test_ssh_config_cannot_switch_checking_off(
    lab: LabSshHost, tmp_path: Path, home: Path, settings: str
) -> None:
    (home / ".ssh" / "config").write_text(f"Host *\n  {settings}\n")
    (home / ".ssh" / "known_hosts").write_text(f"trusted.example {lab.known_hosts.read_text().split(' ', 1)[1]}")
    empty = tmp_path / "empty"
    empty.write_text("")
    async with pool(lab, tmp_path, known_hosts=str(empty)) as hosts:
        with pytest.raises(UnknownHostKeyError):
            await hosts.connect("old")
    assert lab.commands == []


def test_no_code_disables_host_key_checking() -> None:
    """`known_hosts=None` tells asyncssh to trust any key: it must appear nowhere in the package."""
    sources = sorted(PACKAGE.rglob("*.py"))
    assert len(sources) > 10
    pattern = re.compile(r"known_hosts\s*=\s*None")
    offenders = [str(path) for path in sources if pattern.search(path.read_text())]
    assert offenders == []


def test_only_the_connection_pool_opens_client_connections() -> None:
    """Every client connection goes through HostConnections, which always passes the pinned keys."""
    pattern = re.compile(r"asyncssh\.connect\(|\bconnect_reverse\(|from asyncssh import .*\bconnect\b")
    users = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if pattern.search(p.read_text()))
    assert users == ["ssh/connections.py"]
