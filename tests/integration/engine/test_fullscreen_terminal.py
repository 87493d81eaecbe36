"""The full-screen cockpit in a real terminal: tmux gives it a pseudo-terminal, `capture-pane` reads the
screen as a user sees it, `send-keys` presses Enter through the steps. The same run also goes through
`ssh -tt` into a real OpenSSH sshd, as an operator on a jump host would run it.

Under CI=true a missing tmux or sshd fails these tests instead of skipping them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from cockpit.engine.journal import read_journal
from cockpit.lab.ssh_sshd import OpenSshServer, sshd_path
from tests.integration.engine.conftest import MethodLab, three_phases
from tests.support import require

SCREEN_TIMEOUT = 180.0


class Tmux:
    """One private tmux server (its own socket) holding one window of a given size."""

    def __init__(self, width: int, height: int) -> None:
        self.program = require(shutil.which("tmux"), "tmux")
        self.socket = f"cockpit-test-{uuid.uuid4().hex[:8]}"
        self.width, self.height = width, height

    async def tmux(self, *args: str) -> str:
        process = await asyncio.create_subprocess_exec(
            self.program, "-L", self.socket, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await asyncio.wait_for(process.communicate(), 30)
        if process.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)}: {err.decode().strip()}")
        return out.decode()

    async def start(self, command: str) -> None:
        await self.tmux(
            "new-session", "-d", "-s", "t", "-x", str(self.width), "-y", str(self.height),
            f"{command}; echo EXIT=$?; sleep 600",
        )  # fmt: skip

    async def screen(self) -> str:
        return await self.tmux("capture-pane", "-p", "-t", "t")

    async def keys(self, *keys: str) -> None:
        await self.tmux("send-keys", "-t", "t", *keys)

    async def kill(self) -> None:
        with contextlib.suppress(AssertionError):
            await self.tmux("kill-server")

    async def press_enter_until(self, text: str) -> str:
        """Presses Enter every half second until `text` is on screen; returns that screen."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SCREEN_TIMEOUT
        screen = ""
        while loop.time() < deadline:
            screen = await self.screen()
            if text in screen:
                return screen
            await self.keys("Enter")
            await asyncio.sleep(0.5)
        raise AssertionError(f"{text!r} never appeared; the last screen:\n{screen}")

    async def wait_for(self, text: str, seconds: float = 30.0) -> str:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        screen = ""
        while loop.time() < deadline:
            screen = await self.screen()
            if text in screen:
                return screen
            await asyncio.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; the last screen:\n{screen}")


@pytest.fixture
async def tmux_80x24() -> AsyncIterator[Tmux]:
    window = Tmux(80, 24)
    yield window
    await window.kill()


@pytest.fixture
async def tmux_120x40() -> AsyncIterator[Tmux]:
    window = Tmux(120, 40)
    yield window
    await window.kill()


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[OpenSshServer]:
    server = OpenSshServer(tmp_path / "sshd", require(sshd_path(), "OpenSSH sshd"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def cockpit_command(plan: Path) -> str:
    env = f"HOME={shlex.quote(str(plan.parent / 'home'))} TERM=xterm-256color"
    return f"cd {shlex.quote(str(plan.parent))} && {env} {shlex.quote(sys.executable)} -m cockpit run {plan.name}"


def assert_all_done(plan: Path) -> None:
    records = read_journal(plan.parent / ".cockpit" / f"{plan.name}.journal").records
    finished = [r for r in records if r.get("type") == "RunFinished"]
    assert finished and finished[-1]["outcome"] == "done", finished


def assert_fits(screen: str, width: int, height: int) -> None:
    lines = screen.rstrip("\n").split("\n")
    assert len(lines) <= height
    assert all(len(line) <= width for line in lines)


@pytest.mark.parametrize("size", ["80x24", "120x40"])
async def test_enter_through_a_whole_plan_in_tmux(
    method_lab: MethodLab, size: str, tmux_80x24: Tmux, tmux_120x40: Tmux
) -> None:
    window = tmux_80x24 if size == "80x24" else tmux_120x40
    plan = method_lab.write_plan(three_phases(method_lab))
    await window.start(cockpit_command(plan))
    first = await window.wait_for("Checklist")
    assert "Nameservers" in first and "Output" in first
    assert_fits(first, window.width, window.height)
    done = await window.press_enter_until("run done")
    assert_fits(done, window.width, window.height)
    await window.keys("q")
    assert "EXIT=0" in await window.wait_for("EXIT=")
    assert_all_done(plan)
    assert method_lab.served_mx(method_lab.secondary) == ("10 mail.new-host.net.", 1)


async def test_the_same_run_through_ssh_tt(method_lab: MethodLab, sshd: OpenSshServer, tmux_120x40: Tmux) -> None:
    plan = method_lab.write_plan(three_phases(method_lab))
    ssh = shlex.join([*sshd.ssh_command()[:-1], "-tt", "root@127.0.0.1"])
    await tmux_120x40.start(f"{ssh} {shlex.quote(cockpit_command(plan))}")
    await tmux_120x40.wait_for("Checklist")
    await tmux_120x40.wait_for("outside tmux/screen")
    await tmux_120x40.press_enter_until("run done")
    await tmux_120x40.keys("q")
    assert "EXIT=0" in await tmux_120x40.wait_for("EXIT=")
    assert_all_done(plan)


async def test_a_vanished_terminal_stops_the_run_cleanly(method_lab: MethodLab, tmux_120x40: Tmux) -> None:
    """The terminal goes away (the SSH session or tmux dies) while the screen keeps drawing: the cockpit
    must not freeze on writes nobody reads; it stops as for SIGHUP, journal flushed, exit 129."""
    plan = method_lab.write_plan(three_phases(method_lab))
    pid_file = plan.parent / "cockpit.pid"
    home = shlex.quote(str(plan.parent / "home"))
    await tmux_120x40.start(
        f"cd {shlex.quote(str(plan.parent))} && echo $$ > {pid_file.name} && "
        f"HOME={home} TERM=xterm-256color exec {shlex.quote(sys.executable)} -m cockpit run {plan.name}"
    )
    await tmux_120x40.wait_for("Checklist")
    await tmux_120x40.keys("Enter")
    await tmux_120x40.keys("Enter")
    await tmux_120x40.wait_for("✓")
    pid = int(pid_file.read_text())
    await tmux_120x40.kill()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while Path(f"/proc/{pid}").exists() and loop.time() < deadline:
        await asyncio.sleep(0.1)
    alive = Path(f"/proc/{pid}").exists()
    if alive:
        os.kill(pid, 9)
    assert not alive, "the cockpit froze when its terminal went away"
    records = read_journal(plan.parent / ".cockpit" / f"{plan.name}.journal").records
    finished = [r for r in records if r.get("type") == "RunFinished"]
    assert finished and finished[-1]["outcome"] == "stopped" and finished[-1]["exit_code"] == 129, finished
