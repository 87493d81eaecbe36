"""An encrypted SSH key's passphrase asked on the screen: masked, handed to the SSH layer, never shown.

The runs here are real: their ssh steps log in to an in-process SSH host that accepts only the encrypted
key, and their dns_update steps sign with a TSIG secret the in-process nameserver does not share. The
passphrase and the TSIG secret are canaries: neither may appear on any screen or in any widget's text.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import pytest
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from cockpit.engine.states import StepState
from cockpit.lab.dns_zone import LabZone
from cockpit.lab.nameserver import LabNameserver, tsig_key
from cockpit.lab.ssh_host import LabSshHost
from cockpit.plan import Host
from cockpit.ssh import AuthError, HostConnections
from cockpit.ui.app import CockpitApp
from cockpit.ui.dialogs.text_prompt import TextPromptScreen, passphrase_prompt
from cockpit.ui.panes.checklist_pane import ChecklistPane
from cockpit.ui.panes.output_log import OutputLog
from tests.app.conftest import Cockpit, asking, until

Build = Callable[..., Cockpit]

CANARY = "canary-passphrase-8c1f4e"
TSIG_CANARY = base64.b64encode(b"canary-tsig-secret-in-the-plan-77").decode()
SERVER_SECRET = base64.b64encode(b"the-nameserver-knows-another-one").decode()
KEY_NAME = "cockpit-ui-test-key"
CANARIES = (CANARY, TSIG_CANARY, base64.b64decode(TSIG_CANARY).decode())
CONNECTING = 1000
"""Rounds to wait for a login with an encrypted key (its key derivation is slow on purpose)."""

PHASES = """\
  - name: move
    steps:
      - ssh: {host: old, run: "echo unlocked"}
        id: unlock
      - dns_update: {server: "127.0.0.1:PRIMARY", key: dnskey, mx: new}
        id: update-mx
      - confirm: Tell the users
        id: tell-users
"""


def encrypted_key(folder: Path) -> Path:
    key = asyncssh.generate_private_key("ssh-ed25519")
    path = folder / "id_encrypted"
    key.write_private_key(path, passphrase=CANARY)
    key.write_public_key(folder / "id_encrypted.pub")
    path.chmod(0o600)
    return path


@dataclass
class Lab:
    host: LabSshHost
    primary: LabNameserver
    key: Path

    def head(self) -> str:
        return f"""\
version: 1
name: Unlock a key on the screen
domains: [example.com]
nameservers:
  - {{name: ns1.example.com, address: 127.0.0.1, port: {self.primary.port}}}
ttl: 60
mx:
  old: 10 mail.old.example.net.
  new: 10 mail.new.example.net.
hosts:
  old:
    {{address: 127.0.0.1, port: {self.host.port}, user: lab, known_hosts: {self.host.known_hosts},
      identity: [{self.key}]}}
secrets:
  dnskey: {{file: tsig.key}}
phases:
"""

    def phases(self) -> str:
        return PHASES.replace("PRIMARY", str(self.primary.port))


@pytest.fixture
async def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Lab]:
    """An SSH host that accepts only an encrypted key, and a primary that refuses the plan's TSIG secret."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))  # no ~/.ssh/config, no default keys
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)  # no agent
    key = encrypted_key(tmp_path)
    (tmp_path / "tsig.key").write_text(
        f'key "{KEY_NAME}" {{\n\talgorithm hmac-sha256;\n\tsecret "{TSIG_CANARY}";\n}};\n'
    )
    zone = LabZone.build("example.com", mx=[(10, "mail.old.example.net.")], mx_ttl=60, serial=1)
    async with (
        LabSshHost(tmp_path / "old", name="old") as host,
        LabNameserver([zone], keys=[tsig_key(KEY_NAME, SERVER_SECRET)]) as primary,
    ):
        host.authorized_keys.write_text(key.with_suffix(".pub").read_text())  # the encrypted key only
        yield Lab(host, primary, key)


def every_text(app: CockpitApp) -> str:
    """What the screen shows now, and the text of every widget on every screen, shown or not."""
    parts = [app.export_screenshot()]
    for screen in app.screen_stack:
        for node in [screen, *screen.query("*")]:
            parts += [str(node.border_title or ""), str(node.border_subtitle or ""), str(node.tooltip or "")]
            if isinstance(node, Static):
                parts.append(str(node.visual))
            elif isinstance(node, Input):
                parts.append(node.value)
            elif isinstance(node, OptionList):
                parts += [str(node.get_option_at_index(i).prompt) for i in range(node.option_count)]
            elif isinstance(node, OutputLog):
                parts += [line.text for line in node.buffer.lines]
            if isinstance(node, ChecklistPane):
                parts += [str(node.describe(step_id)) for step_id in node.steps]
    return "\n".join(parts)


def assert_no_canary(app: CockpitApp) -> None:
    text = every_text(app)
    for canary in CANARIES:
        assert canary not in text


async def go(pilot: Pilot[int], c: Cockpit, step_id: str) -> None:
    """Answer the gate of an irreversible step: Enter, then Enter again in the confirmation."""
    await until(pilot, asking(c.run, step_id, "gate"))
    await pilot.press("enter", "enter")


async def test_a_run_unlocks_its_key_on_the_screen_and_shows_no_secret(cockpit: Build, lab: Lab) -> None:
    c = cockpit(lab.phases(), head=lab.head(), verify_hosts=True)
    async with c.app.run_test(size=(100, 30)) as pilot:
        # Every host is logged in to (its key verified) before the first step that changes anything.
        await until(
            pilot, lambda: isinstance(c.app.screen, TextPromptScreen), "the passphrase dialog", rounds=CONNECTING
        )
        dialog = c.app.screen
        assert isinstance(dialog, TextPromptScreen) and str(lab.key) in dialog.what
        await pilot.press(*CANARY)
        shown = c.app.export_screenshot()
        assert CANARY not in shown and "•" * len(CANARY) in shown.replace("&#160;", " ")
        await pilot.press("enter")
        await go(pilot, c, "unlock")
        await until(pilot, lambda: c.run.steps["unlock"].state == StepState.DONE, "the step done", rounds=CONNECTING)
        assert not isinstance(c.app.screen, TextPromptScreen)
        assert_no_canary(c.app)

        await go(pilot, c, "update-mx")
        await until(pilot, asking(c.run, "update-mx", "failed"), rounds=CONNECTING)
        assert "signature" in c.run.steps["update-mx"].detail.lower()
        for step_id in ("unlock", "update-mx"):  # each step's details, selected in turn
            c.app.screen.query_one(ChecklistPane).step_list.select_step(step_id)
            await pilot.pause()
            assert_no_canary(c.app)
        seen = every_text(c.app)
        assert "unlocked" in seen and "signature" in seen.lower(), "the collector sees output and details"


async def test_escape_skips_the_key_and_the_step_fails_saying_why(cockpit: Build, lab: Lab) -> None:
    c = cockpit(lab.phases(), head=lab.head(), verify_hosts=True)
    async with c.app.run_test(size=(100, 30)) as pilot:
        await until(
            pilot, lambda: isinstance(c.app.screen, TextPromptScreen), "the passphrase dialog", rounds=CONNECTING
        )
        await pilot.press(*CANARY[:12], "escape")
        await go(pilot, c, "unlock")  # a key skipped once is not asked for again in this run
        await until(pilot, asking(c.run, "unlock", "failed"), rounds=CONNECTING)
        detail = c.run.steps["unlock"].detail
        assert "authentication failed" in detail and "no valid passphrase given" in detail, detail
        assert str(lab.key) in detail
        described = str(c.app.screen.query_one(ChecklistPane).describe("unlock"))
        assert "no valid passphrase given" in described
        assert lab.host.commands == [], "nothing ran on the host"
        assert CANARY[:12] not in every_text(c.app)


async def test_the_dialog_alone_hands_the_passphrase_to_the_ssh_layer(cockpit: Build, tmp_path: Path) -> None:
    key = encrypted_key(tmp_path)
    c = cockpit()
    async with LabSshHost(tmp_path / "lab", name="old") as host, c.app.run_test(size=(100, 30)) as pilot:
        host.authorize(key.with_suffix(".pub"))
        plan_host = Host.model_validate({**host.plan_host(), "identity": [str(key)]})
        async with HostConnections({"old": plan_host}, base_dir=tmp_path, passphrase=passphrase_prompt(c.app)) as hosts:
            connecting = asyncio.ensure_future(hosts.connect("old"))
            await until(pilot, lambda: isinstance(c.app.screen, TextPromptScreen), "the passphrase dialog")
            await pilot.press(*CANARY, "enter")
            conn = await asyncio.wait_for(connecting, 20)
            result = await conn.run("echo unlocked")
            assert str(result.stdout).strip() == "unlocked"
        assert CANARY not in c.app.export_screenshot()


async def test_escape_in_the_dialog_alone_fails_the_login(cockpit: Build, tmp_path: Path) -> None:
    key = encrypted_key(tmp_path)
    c = cockpit()
    async with LabSshHost(tmp_path / "lab", name="old") as host, c.app.run_test(size=(100, 30)) as pilot:
        host.authorized_keys.write_text(key.with_suffix(".pub").read_text())
        plan_host = Host.model_validate({**host.plan_host(), "identity": [str(key)]})
        async with HostConnections({"old": plan_host}, base_dir=tmp_path, passphrase=passphrase_prompt(c.app)) as hosts:
            connecting = asyncio.ensure_future(hosts.connect("old"))
            await until(pilot, lambda: isinstance(c.app.screen, TextPromptScreen), "the passphrase dialog")
            await pilot.press("escape")
            with pytest.raises(AuthError, match="old"):
                await asyncio.wait_for(connecting, 20)
