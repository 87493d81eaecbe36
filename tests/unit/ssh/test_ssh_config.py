"""~/.ssh/config aliases (HostName, User, Port, IdentityFile, ProxyJump) and key passphrases."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path

import asyncssh
import pytest

from cockpit.lab.ssh_host import LabSshHost
from cockpit.plan import Host
from cockpit.ssh import AuthError, HostConnections, OutputLines, SshEvent, UnknownHostKeyError, run_command


async def test_an_alias_supplies_hostname_user_port_and_identity(lab: LabSshHost, tmp_path: Path, home: Path) -> None:
    (home / ".ssh" / "config").write_text(
        f"Host oldbox\n  HostName 127.0.0.1\n  Port {lab.port}\n  User mover\n  IdentityFile {lab.client_key}\n"
    )
    host = Host(ssh_config="oldbox", known_hosts=str(lab.known_hosts))
    async with HostConnections({"old": host}, base_dir=tmp_path) as hosts:
        conn = await hosts.connect("old")
        assert conn.get_extra_info("username") == "mover"
        assert (await run_command(conn, "true", host="old")).ok


async def test_proxyjump_hops_are_verified_too(
    lab: LabSshHost, lab_new: LabSshHost, tmp_path: Path, home: Path
) -> None:
    lab_new.authorize(lab.client_key.with_name("client_key.pub"))
    (home / ".ssh" / "config").write_text(
        f"Host target\n  HostName 127.0.0.1\n  Port {lab_new.port}\n  ProxyJump jump\n"
        f"Host jump\n  HostName 127.0.0.1\n  Port {lab.port}\n"
    )
    only_target = tmp_path / "only_target"
    only_target.write_text(lab_new.known_hosts.read_text())
    both = tmp_path / "both"
    both.write_text(lab.known_hosts.read_text() + lab_new.known_hosts.read_text())
    plan_host = {"ssh_config": "target", "identity": [str(lab.client_key)]}

    async with HostConnections(
        {"new": Host.model_validate({**plan_host, "known_hosts": str(only_target)})}, base_dir=tmp_path
    ) as hosts:
        with pytest.raises(UnknownHostKeyError, match=f"127.0.0.1]:{lab.port}"):
            await hosts.connect("new")
    assert lab.commands == [] and lab_new.commands == []

    events: list[SshEvent] = []
    async with HostConnections(
        {"new": Host.model_validate({**plan_host, "known_hosts": str(both)})}, base_dir=tmp_path
    ) as hosts:
        result = await run_command(await hosts.connect("new"), "pwd", host="new", sink=events.append)
    assert result.ok
    assert [line for e in events if isinstance(e, OutputLines) for line in e.lines] == [str(lab_new.sandbox)]
    assert lab.commands == []


@pytest.fixture(params=["pkcs8-pem", "openssh"])
def encrypted_key(request: pytest.FixtureRequest, tmp_path: Path, lab: LabSshHost) -> Path:
    """A passphrase-protected key; the OpenSSH format (ssh-keygen's default) needs bcrypt installed."""
    if request.param == "openssh":
        pytest.importorskip("bcrypt")
    key = asyncssh.generate_private_key("ssh-ed25519")
    path = tmp_path / "locked_key"
    key.write_private_key(path, format_name=request.param, passphrase="correct horse")
    key.write_public_key(tmp_path / "locked_key.pub")
    lab.authorize(tmp_path / "locked_key.pub")
    return path


async def test_an_encrypted_key_asks_its_passphrase_once(
    lab: LabSshHost, lab_new: LabSshHost, tmp_path: Path, encrypted_key: Path
) -> None:
    asked: list[str] = []

    async def prompt(label: str) -> str | None:
        asked.append(label)
        return "correct horse"

    lab_new.authorize(tmp_path / "locked_key.pub")
    hosts_map = {
        name: Host.model_validate({**server.plan_host(), "identity": ["locked_key"]})
        for name, server in (("old", lab), ("new", lab_new))
    }
    async with HostConnections(hosts_map, base_dir=tmp_path, passphrase=prompt) as hosts:
        assert (await run_command(await hosts.connect("old"), "true", host="old")).ok
        assert (await run_command(await hosts.connect("new"), "true", host="new")).ok
    assert asked == [f"Passphrase for key {encrypted_key}"]


async def test_wrong_passphrases_fail_without_showing_them(
    lab: LabSshHost, tmp_path: Path, encrypted_key: Path
) -> None:
    asked: list[str] = []

    async def prompt(label: str) -> str | None:
        asked.append(label)
        return "not-the-passphrase"

    host = Host.model_validate({**lab.plan_host(), "identity": [str(encrypted_key)]})
    async with HostConnections({"old": host}, base_dir=tmp_path, passphrase=prompt) as hosts:
        with pytest.raises(AuthError) as caught:
            await hosts.connect("old")
    assert len(asked) == 3
    message = str(caught.value)
    assert "authentication failed for root@127.0.0.1" in message and "no valid passphrase" in message
    assert "not-the-passphrase" not in message and "not-the-passphrase" not in repr(caught.value)
    assert lab.commands == []


async def test_a_missing_identity_file_is_named(lab: LabSshHost, tmp_path: Path) -> None:
    host = Host.model_validate({**lab.plan_host(), "identity": ["absent_key"]})
    async with HostConnections({"old": host}, base_dir=tmp_path) as hosts:
        with pytest.raises(AuthError, match=r"identity file .*absent_key not found"):
            await hosts.connect("old")


async def test_the_ssh_agent_is_used_when_present(
    lab: LabSshHost, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("ssh-agent") is None or shutil.which("ssh-add") is None:
        pytest.skip("OpenSSH client tools are not installed")
    socket_path = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(socket_path)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(500):
            if socket_path.exists():
                break
            await asyncio.sleep(0.01)
        env = {**os.environ, "SSH_AUTH_SOCK": str(socket_path)}
        subprocess.run(["ssh-add", "-q", str(lab.client_key)], env=env, check=True, timeout=30, capture_output=True)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(socket_path))
        host = Host.model_validate({**lab.plan_host(), "identity": []})
        async with HostConnections({"old": host}, base_dir=tmp_path) as hosts:
            assert (await run_command(await hosts.connect("old"), "true", host="old")).ok
        monkeypatch.delenv("SSH_AUTH_SOCK")
        async with HostConnections({"old": host}, base_dir=tmp_path) as hosts:
            with pytest.raises(AuthError):
                await hosts.connect("old")
    finally:
        agent.terminate()
        agent.wait(timeout=10)
