"""An encrypted SSH key's passphrase asked on the screen: masked, handed to the SSH layer, never shown."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import asyncssh

from cockpit.lab.ssh_host import LabSshHost
from cockpit.plan import Host
from cockpit.ssh import AuthError, HostConnections
from cockpit.ui.passphrase_screen import PassphraseScreen, passphrase_prompt
from tests.app.conftest import Cockpit, until

Build = Callable[..., Cockpit]

CANARY = "canary-passphrase-8c1f4e"


def encrypted_key(folder: Path) -> Path:
    key = asyncssh.generate_private_key("ssh-ed25519")
    path = folder / "id_encrypted"
    key.write_private_key(path, passphrase=CANARY)
    key.write_public_key(folder / "id_encrypted.pub")
    path.chmod(0o600)
    return path


async def test_the_passphrase_unlocks_the_key_and_never_shows(cockpit: Build, tmp_path: Path) -> None:
    key = encrypted_key(tmp_path)
    c = cockpit()
    async with LabSshHost(tmp_path / "lab", name="old") as lab, c.app.run_test(size=(100, 30)) as pilot:
        lab.authorize(key.with_suffix(".pub"))
        host = Host.model_validate({**lab.plan_host(), "identity": [str(key)]})
        async with HostConnections({"old": host}, base_dir=tmp_path, passphrase=passphrase_prompt(c.app)) as hosts:
            connecting = asyncio.ensure_future(hosts.connect("old"))
            await until(pilot, lambda: isinstance(c.app.screen, PassphraseScreen), "the passphrase dialog")
            dialog = c.app.screen
            assert isinstance(dialog, PassphraseScreen) and "id_encrypted" in dialog.what
            await pilot.press(*CANARY)
            screen = c.app.export_screenshot()
            assert CANARY not in screen and "•" in screen
            await pilot.press("enter")
            conn = await asyncio.wait_for(connecting, 20)
            result = await conn.run("echo unlocked")
            assert str(result.stdout).strip() == "unlocked"
        assert CANARY not in c.app.export_screenshot()


async def test_escape_skips_the_key_and_the_login_fails_clearly(cockpit: Build, tmp_path: Path) -> None:
    key = encrypted_key(tmp_path)
    c = cockpit()
    async with LabSshHost(tmp_path / "lab", name="old") as lab, c.app.run_test(size=(100, 30)) as pilot:
        lab.authorize(key.with_suffix(".pub"))
        host = Host.model_validate({**lab.plan_host(), "identity": [str(key)]})
        (tmp_path / "lab" / "authorized_keys").write_text(key.with_suffix(".pub").read_text())
        async with HostConnections({"old": host}, base_dir=tmp_path, passphrase=passphrase_prompt(c.app)) as hosts:
            connecting = asyncio.ensure_future(hosts.connect("old"))
            await until(pilot, lambda: isinstance(c.app.screen, PassphraseScreen), "the passphrase dialog")
            await pilot.press("escape")
            try:
                await asyncio.wait_for(connecting, 20)
            except AuthError as exc:
                assert "old" in str(exc)
            else:
                raise AssertionError("the login succeeded without the key")
