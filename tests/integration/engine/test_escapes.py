"""Terminal control sequences in untrusted text never reach a terminal or a report raw: in the plan (name,
titles, confirm text) and in a remote command's output, for the headless run, `check`, both report formats and
the full screen in a real terminal (tmux: its clipboard and window title stay untouched)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from cockpit.engine.journal import journal_path
from tests.integration.engine.conftest import MethodLab
from tests.integration.engine.test_fullscreen_terminal import Tmux, cockpit_command

HOSTILE = {
    "OSC 52 (clipboard)": "\x1b]52;c;cHduZWQ=\x07",
    "OSC 0 (window title)": "\x1b]0;pwned-title\x07",
    "CSI 2J (clear screen)": "\x1b[2J",
    "alternate screen": "\x1b[?1049h",
    "BEL": "\x07",
    "C1 CSI": "\x9b2J",
    "right-to-left override": "\u202e",
}
RAW = [b"\x1b", b"\x07", b"\xc2\x9b", "\u202e".encode()]
"""Bytes that must never be written: ESC, BEL, the C1 CSI and U+202E in UTF-8."""


def quoted(text: str) -> str:
    """A YAML double-quoted scalar holding `text` exactly (JSON's escapes are YAML's)."""
    return json.dumps(text)


PRINTED = "".join(HOSTILE.values()) + " tail"


def hostile_plan(lab: MethodLab) -> Path:
    octal = "".join(f"\\{byte:03o}" for byte in PRINTED.encode())
    (lab.old.sandbox / "hostile.sh").write_text(f"printf '{octal}\\n'\n")
    phases = f"""\
  - name: only
    steps:
      - confirm: {quoted("Confirm " + HOSTILE["OSC 52 (clipboard)"] + HOSTILE["right-to-left override"] + " text")}
        id: ask
      - ssh: {{host: old, run: "sh hostile.sh"}}
        title: {quoted("Title " + HOSTILE["CSI 2J (clear screen)"] + HOSTILE["alternate screen"])}
        id: print
"""
    plan = lab.write_plan(phases)
    plan.write_text(plan.read_text().replace("name: Engine end-to-end", f"name: {quoted('Move ' + PRINTED)}"))
    return plan


async def run(*args: str, cwd: Path) -> tuple[int, bytes, bytes]:
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "cockpit", *args, cwd=cwd,
                                                   stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.PIPE)  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out, err


def no_raw(what: str, data: bytes) -> None:
    for raw in RAW:
        assert raw not in data, f"{what} wrote {raw!r}: {data[:2000]!r}"


async def test_headless_check_and_reports_show_escapes_visibly(method_lab: MethodLab) -> None:
    plan = hostile_plan(method_lab)
    code, out, err = await run("run", str(plan), "--headless", "--yes", cwd=method_lab.root)
    assert code == 0, (out + err).decode(errors="replace")
    no_raw("the headless run", out + err)
    text = out.decode()
    assert "\\e]52;c;cHduZWQ=\\a" in text and "\\e]0;pwned-title\\a" in text and "\\u202e" in text
    assert "[print] old stdout: \\e]52;c;cHduZWQ=\\a" in text, text
    code, out, err = await run("check", str(plan), cwd=method_lab.root)
    assert code == 0, err
    no_raw("check", out + err)
    assert "\\e]0;pwned-title\\a" in out.decode()
    for fmt in ("md", "html"):
        code, out, err = await run("report", str(journal_path(plan)), "--format", fmt, cwd=method_lab.root)
        assert code == 0, err
        no_raw(f"the {fmt} report", out + err)
        assert "\\e[2J" in out.decode() and "\\e]52;c;cHduZWQ=\\a" in out.decode()


async def test_a_plan_error_quotes_escapes_visibly(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text('version: 1\nname: x\n"\\e]0;t\\a": 1\n')
    code, out, err = await run("check", "bad.yaml", cwd=tmp_path)
    assert code == 2
    no_raw("a plan error", out + err)


async def test_the_full_screen_shows_escapes_visibly_and_the_terminal_keeps_its_title(method_lab: MethodLab) -> None:
    plan = hostile_plan(method_lab)
    window = Tmux(120, 40)
    try:
        # A server with no session exits at once unless told not to: new-session could then find it gone.
        await window.tmux(
            "start-server", ";", "set", "-g", "exit-empty", "off", ";", "set", "-g", "set-clipboard", "on"
        )
        await window.start(cockpit_command(plan))
        screen = await window.wait_for("Checklist")
        assert "\\e]0;pwned-title" in screen or "\\e]52" in screen, screen
        await window.press_enter_until("run done")
        screen = await window.screen()
        title = await window.tmux("display-message", "-p", "-t", "t", "#{pane_title}")
        buffers = await window.tmux("list-buffers")
        await window.keys("q")
        assert "EXIT=0" in await window.wait_for("EXIT=")
    finally:
        await window.kill()
    assert "pwned" not in title, title
    assert buffers.strip() == "", f"an OSC 52 reached the clipboard: {buffers!r}"
    assert "Checklist" in screen, "the screen was cleared or switched away"


@pytest.fixture(autouse=True)
def _no_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    os.environ.pop("TMUX", None)
