"""`cockpit demo` as a newcomer runs it: the lab, the whole plan, and the tally that proves nothing was lost.

Headless runs check the proof, the downtime (the engine's, from the journal), the exit code and what is left
behind; the full-screen run goes through tmux (a real terminal), pressing Enter through every step as an
operator would, and reads the tally from the screen.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

from cockpit.base.units import format_duration
from cockpit.engine.downtime import DowntimeClock
from cockpit.engine.journal import read_journal
from tests.support import require

TALLY = re.compile(
    r"tally: sent (?P<sent>\d+) · old (?P<old>\d+) · moved (?P<moved>\d+) · new (?P<new>\d+) · "
    r"lost (?P<lost>\d+) · duplicated (?P<duplicated>\d+)(?: · stranded (?P<stranded>\d+))?.* · downtime "
)
DOWNTIME = re.compile(r"tally: .* · downtime (?P<downtime>[\dhms.]+) \(floor (?P<floor>[\dhms.]+)\)")
SUMMARY = re.compile(r" run done \(exit 0\) · downtime (?P<downtime>[\dhms.]+), from ")
REPORTED = re.compile(r"- Downtime window: (?P<downtime>[\dhms.]+), from ")


def demo(*args: str, folder: Path | None, tmp: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`cockpit demo ARGS` in its own folder, or (folder None) in a new temporary folder under `tmp`."""
    where = ["--dir", str(folder)] if folder is not None else []
    env = {**os.environ, "TMPDIR": str(tmp)} if tmp is not None else None
    return subprocess.run(
        [sys.executable, "-m", "cockpit", "demo", *where, *args],
        capture_output=True, text=True, timeout=240, stdin=subprocess.DEVNULL, env=env,
    )  # fmt: skip


def tally(output: str) -> dict[str, int]:
    match = TALLY.search(output)
    assert match, output
    return {key: int(value) for key, value in match.groupdict().items() if value is not None}


def journal_outcome(folder: Path) -> tuple[str, set[str]]:
    records = read_journal(folder / ".cockpit" / "plan.yaml.journal").records
    finished = [r for r in records if r.get("type") == "RunFinished"]
    done = {str(r["step_id"]) for r in records if r.get("type") == "StepChanged" and r.get("state") == "done"}
    return (str(finished[-1]["outcome"]) if finished else "none"), done


def test_headless_demo_moves_every_message_exactly_once(tmp_path: Path) -> None:
    folder = tmp_path / "lab"
    result = demo("--headless", "--speed", "20", folder=folder)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    counts = tally(result.stdout)
    assert counts["lost"] == 0 and counts["duplicated"] == 0 and "stranded" not in counts
    assert counts["sent"] > 0 and counts["moved"] > 0 and counts["new"] > 0
    assert counts["sent"] == counts["old"] + counts["new"]
    outcome, done = journal_outcome(folder)
    assert outcome == "done"
    assert {"mx-to-parking", "senders-refused", "old-quiet", "delta-sync", "delta-verify", "parking-delivers",
            "mx-to-new", "stragglers-sync", "final-verify"} <= done  # fmt: skip

    # The tally's downtime is the engine's, from the journal; its floor is one old TTL plus the delta pass.
    records = read_journal(folder / ".cockpit" / "plan.yaml.journal").records
    clock = DowntimeClock.from_records(records)
    assert clock.started is not None and clock.ended is not None and clock.proven
    figures = DOWNTIME.search(result.stdout)
    assert figures, result.stdout[-1000:]
    assert figures["downtime"] == format_duration(clock.ended - clock.started)
    (delta,) = [r for r in records if r["type"] == "SyncPass" and r["step_id"] == "delta-sync"]
    assert figures["floor"] == format_duration(1 + delta["seconds"])  # at speed 20 the low TTL is 1 s
    # One figure, one wording: the headless summary, the tally and the report say the same downtime.
    summary = SUMMARY.search(result.stdout)
    report = subprocess.run([sys.executable, "-m", "cockpit", "report", str(folder / ".cockpit" / "plan.yaml.journal")],
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    reported = REPORTED.search(report.stdout)
    assert summary and reported, result.stdout[-1000:] + report.stdout[:1000]
    assert summary["downtime"] == figures["downtime"] == reported["downtime"]
    said = [line for line in result.stdout.splitlines() if " info: mail so far: " in line]
    assert len(said) == 2, said  # the run's end, as printed and as the report's Runs part lists it
    for line in said:
        assert f"UTC {line.split(' UTC ', 1)[1]}" in report.stdout, report.stdout[:3000]
    assert f"lab kept in {folder}" in result.stdout and (folder / "id_ed25519").exists()


def test_without_a_terminal_the_demo_runs_headless_and_leaves_nothing(tmp_path: Path) -> None:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    result = demo("--speed", "20", "--messages", "40", folder=None, tmp=temporary)
    assert "no terminal: running headless" in result.stderr
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert tally(result.stdout)["sent"] == 40
    assert "lab removed from" in result.stdout and "--keep" in result.stdout
    assert list(temporary.iterdir()) == [], "the lab folder, with its private key, is gone"


def test_reckless_demo_strands_mail_and_fails(tmp_path: Path) -> None:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    result = demo("--headless", "--speed", "20", "--reckless", "--keep", folder=None, tmp=temporary)
    counts = tally(result.stdout)
    assert counts.get("stranded", 0) > 0 and counts["lost"] == 0, result.stdout[-2000:]
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"cockpit demo: exit 1 — every step ran, but {counts['stranded']} message(s) stranded on the old host: "
        "that is what a hurried move does"
    )
    (kept,) = temporary.iterdir()
    assert f"lab kept in {kept}" in result.stdout and (kept / ".cockpit" / "plan.yaml.journal").is_file()


def test_a_bad_theme_is_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cockpit", "demo", "--theme", "no-such-theme"],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--theme no-such-theme: choose one of" in result.stderr


def test_screenshots_need_the_full_screen(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cockpit", "demo", "--headless", "--screenshots", str(tmp_path / "shots")],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "cockpit demo: --screenshots takes pictures of the full screen: leave out --headless"
    ]


async def test_full_screen_demo_in_tmux_pressed_through_to_the_tally(tmp_path: Path) -> None:
    tmux = require(shutil.which("tmux"), "tmux")
    socket_name = f"cockpit-demo-{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "lab"
    shots = tmp_path / "shots"
    command = (
        f"HOME={shlex.quote(str(tmp_path))} TERM=xterm-256color {shlex.quote(sys.executable)} -m cockpit demo "
        f"--speed 10 --dir {shlex.quote(str(folder))} --screenshots {shlex.quote(str(shots))}; echo EXIT=$?; sleep 600"
    )

    async def run(*args: str) -> str:
        process = await asyncio.create_subprocess_exec(
            tmux, "-L", socket_name, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 0, err.decode()
        return out.decode()

    async def until(text: str, seconds: float, press: bool) -> str:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        screen = ""
        while loop.time() < deadline:
            screen = await run("capture-pane", "-p", "-t", "t")
            if text in screen:
                return screen
            if press:
                await run("send-keys", "-t", "t", "Enter")
            await asyncio.sleep(0.5)
        raise AssertionError(f"{text!r} never appeared; the last screen:\n{screen}")

    await run("new-session", "-d", "-s", "t", "-x", "100", "-y", "30", command)
    try:
        first = await until("Checklist", 60, press=False)
        assert "Nameservers" in first and "demo.test" in first
        await until("run done", 300, press=True)
        # The end stays on screen, whole: the run's last line, then the tally in three lines under it.
        end = await until("mail so far: lost 0 · duplicated 0", 30, press=False)
        lines = end.splitlines()
        done_at = next(i for i, line in enumerate(lines) if "run done (exit 0)" in line)
        assert "mail so far: sent" in lines[done_at + 1] and "downtime" in lines[done_at + 3], end
        # One figure: the header's downtime, once over, is the tally's, written the same way.
        header = re.search(r"downtime (\S+) \(over\)", lines[0])
        shown = re.search(r"downtime (\S+) \(floor ", lines[done_at + 3])
        assert header and shown and header[1] == shown[1], end
        await run("send-keys", "-t", "t", "q")
        screen = await until("EXIT=", 120, press=False)
    finally:
        await run("kill-server")
    assert "EXIT=0" in screen, screen
    counts = tally(screen)
    printed = DOWNTIME.search(screen)
    assert printed and printed["downtime"] == shown[1], screen
    assert counts["lost"] == 0 and counts["duplicated"] == 0
    # One SVG per phase entered, in order, and one of the end; each is the screen as it was.
    taken = sorted(path.name for path in shots.glob("*.svg"))
    assert taken == ["01-before.svg", "02-during.svg", "03-after.svg", "04-end.svg"], taken
    for path in shots.glob("*.svg"):
        svg = path.read_text()
        assert svg.startswith("<svg") and "Checklist" in svg and "demo.test" in svg, path.name
    assert f"screenshots: 4 SVG file(s) in {shots}" in screen
