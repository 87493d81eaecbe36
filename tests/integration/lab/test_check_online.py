"""`cockpit check --online` against the running lab: every nameserver asked, every host logged in to with its
key verified, every secret loaded, every primary read — and a line that says what to do for each problem."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from cockpit.lab.nameserver import Behaviour
from cockpit.lab.runtime import Lab


async def check_online(plan: Path) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cockpit", "check", "--online", str(plan),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 90)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def bad_lines(out: str) -> list[str]:
    return [line.strip() for line in out.splitlines() if line.strip().startswith("BAD")]


async def test_everything_answers(tmp_path: Path) -> None:
    async with Lab.start(tmp_path / "lab", speed=50, messages=1) as lab:
        code, out, err = await check_online(lab.plan_path)
        serial_before = lab.primary.zone("demo.test").serial
    assert code == 0, out + err
    assert bad_lines(out) == []
    assert out.count("ok   dns") == 2 and "[old]" in out
    assert "old: logged in as lab" in out and "new: logged in as lab" in out and "SHA256:" in out
    assert "ok   secret  dnskey: TSIG key" in out
    assert "answers over TCP, serial" in out
    assert "6 checks, 0 problems; nothing was changed" in out
    assert serial_before == 1, "reading the primary must not update it"


async def test_each_problem_is_one_line_and_exit_1(tmp_path: Path) -> None:
    async with Lab.start(tmp_path / "lab", speed=50, messages=1) as lab:
        (lab.directory / "known_hosts").write_text("")
        (lab.directory / "tsig.key").unlink()
        lab.secondary.behave(Behaviour.SILENT)
        code, out, err = await check_online(lab.plan_path)
        assert lab.old is not None and lab.new is not None
        commands = lab.old.commands + lab.new.commands
    assert code == 1, out + err
    bad = bad_lines(out)
    assert any("ns2.demo.test" in line and "timeout" in line for line in bad), bad
    assert any(line.startswith("BAD  ssh     old: unknown host key") and "ssh-keyscan" in line for line in bad), bad
    assert any(line.startswith("BAD  secret  dnskey:") and "does not exist" in line for line in bad), bad
    assert "4 problems" in out
    assert commands == [], "no command runs during a check"
    assert "Traceback" not in err
