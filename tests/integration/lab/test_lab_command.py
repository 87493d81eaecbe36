"""`cockpit lab up` as a user runs it: it says where the plan is, runs until SIGTERM, then prints the tally
(mail still on old then is stranded, not lost)."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

from cockpit.plan import load_plan

TALLY = re.compile(r"^sent \d+ · old \d+ · moved \d+ · new \d+ · lost \d+ · duplicated \d+ .*· downtime ")


def cockpit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cockpit", *args], capture_output=True, text=True, timeout=60)


async def test_lab_up_runs_until_sigterm_and_prints_the_tally(tmp_path: Path) -> None:
    folder = tmp_path / "lab"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cockpit", "lab", "up", "--dir", str(folder), "--speed", "50", "--smtp-port", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(30):
            while not lines or not lines[-1].startswith("Ctrl+C"):
                line = (await process.stdout.readline()).decode()
                assert line, f"the lab ended early: {lines} {(await process.stderr.read()).decode()}"
                lines.append(line.rstrip("\n"))
    except BaseException:
        process.kill()
        await process.wait()
        raise
    assert lines[0] == f"lab running in {folder} (speed 50)"
    assert f"plan: {folder / 'plan.yaml'}" in lines
    assert f"run it with: cockpit run {folder / 'plan.yaml'}" in lines
    assert any(line.strip().startswith("smtp parking 127.0.0.3:") for line in lines)
    assert any("mail in Maildirs ~/store/{user}" in line for line in lines)
    plan = load_plan(folder / "plan.yaml").plan
    assert plan.hosts.keys() == {"old", "new"} and plan.stores.keys() == {"old-store", "new-store"}
    async with asyncio.timeout(30):
        while not list(folder.glob("old/sandbox/store/*/new/*")):
            await asyncio.sleep(0.05)

    process.send_signal(signal.SIGTERM)
    async with asyncio.timeout(30):
        rest, errors = await process.communicate()
    assert process.returncode == 0, errors.decode()
    assert errors.decode() == ""
    last = rest.decode().splitlines()[-1]
    assert TALLY.match(last), rest.decode()
    assert " · lost 0 · duplicated 0 · stranded " in last and "downtime not measured" in last, last


def test_an_unusable_folder_is_one_line_and_exit_1(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    result = cockpit("lab", "up", "--dir", str(tmp_path / "file" / "lab"), "--smtp-port", "0")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"cockpit lab: cannot use {tmp_path / 'file' / 'lab'} for the lab: ")
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr


def test_a_taken_port_is_one_line_and_exit_1(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.2", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cockpit("lab", "up", "--dir", str(tmp_path / "lab"), "--smtp-port", str(port))
    assert result.returncode == 1
    assert result.stderr == (
        f"cockpit lab: cannot use SMTP port 127.0.0.2:{port}: something already listens there (choose another port)\n"
    )
