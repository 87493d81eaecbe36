"""`cockpit run --headless` and `cockpit report` as processes: answers from stdin, resume, lock, signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cockpit.engine.journal import read_journal
from cockpit.engine.lock import lock_is_free

PLAN = """\
version: 1
name: Tiny move
domains: [example.com]
mx: {old: a.example.net., new: b.example.net.}
phases:
  - name: p
    steps:
      - confirm: First manual thing
      - countdown: 1s
      - confirm: Second manual thing
"""


def cockpit(*args: str, cwd: Path, stdin: str = "", timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cockpit", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    path = tmp_path / "move.yaml"
    path.write_text(PLAN)
    return path


def test_yes_runs_to_done_and_report_shows_it(plan: Path) -> None:
    result = cockpit("run", "move.yaml", "--headless", "--yes", cwd=plan.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "run done (exit 0)" in result.stdout
    journal = plan.parent / ".cockpit" / "move.yaml.journal"
    records = read_journal(journal).records
    assert records[0]["type"] == "RunStarted" and records[-1]["type"] == "RunFinished"
    report = cockpit("report", str(journal), cwd=plan.parent)
    assert report.returncode == 0
    assert "- Outcome: done (exit 0)" in report.stdout
    assert "| p-1 | First manual thing |" in report.stdout and "| --yes |" in report.stdout
    page = cockpit("report", str(journal), "--format", "html", cwd=plan.parent)
    assert page.stdout.startswith("<!doctype html>") and "First manual thing" in page.stdout


def test_answers_from_stdin_and_resume_after_stopping(plan: Path) -> None:
    first = cockpit("run", "move.yaml", "--headless", cwd=plan.parent, stdin="y\nn\n")
    assert first.returncode == 1
    assert "[p-1] done: confirm" in first.stdout
    second = cockpit("run", "move.yaml", "--headless", cwd=plan.parent, stdin="s\nnot needed today\ny\n")
    assert second.returncode == 0, second.stdout
    assert "resuming 'Tiny move'" in second.stdout
    assert "[p-1]" not in second.stdout.replace("[p-1] done", "")  # done steps never run again
    assert "[p-2] skipped: not needed today" in second.stdout
    third = cockpit("run", "move.yaml", "--headless", cwd=plan.parent)
    assert third.returncode == 0 and "run done" in third.stdout


def test_stdin_closed_stops_resumably(plan: Path) -> None:
    result = cockpit("run", "move.yaml", "--headless", cwd=plan.parent, stdin="")
    assert result.returncode == 1
    assert "stdin closed: stopping (the journal lets you resume)" in result.stdout


def test_plan_change_is_refused_unless_accepted(plan: Path) -> None:
    cockpit("run", "move.yaml", "--headless", cwd=plan.parent, stdin="y\nn\n")
    plan.write_text(PLAN.replace("countdown: 1s", "countdown: 2s"))
    refused = cockpit("run", "move.yaml", "--headless", "--yes", cwd=plan.parent)
    assert refused.returncode == 2
    assert "changed since the journal's last run" in refused.stderr and "--accept-plan-change" in refused.stderr
    accepted = cockpit("run", "move.yaml", "--headless", "--yes", "--accept-plan-change", cwd=plan.parent)
    assert accepted.returncode == 0


def test_fresh_archives_the_journal(plan: Path) -> None:
    cockpit("run", "move.yaml", "--headless", "--yes", cwd=plan.parent)
    again = cockpit("run", "move.yaml", "--headless", "--yes", "--fresh", cwd=plan.parent)
    assert again.returncode == 0 and "starting 'Tiny move'" in again.stdout
    archived = [p.name for p in (plan.parent / ".cockpit").iterdir() if p.name.startswith("move.yaml.journal.")]
    assert len(archived) == 1


def test_bad_decide_and_bad_plan(plan: Path) -> None:
    bad = cockpit("run", "move.yaml", "--headless", "--decide", "nope=rerun", cwd=plan.parent)
    assert bad.returncode == 2 and bad.stderr == "--decide nope=rerun: the plan has no step 'nope'\n"
    worse = cockpit("run", "move.yaml", "--headless", "--decide", "p-1=maybe", cwd=plan.parent)
    assert worse.returncode == 2 and "STEP=rerun|done|skip (interrupted)" in worse.stderr
    (plan.parent / "broken.yaml").write_text("version: 1\nname: [\n")
    broken = cockpit("run", "broken.yaml", "--headless", cwd=plan.parent)
    assert broken.returncode == 2 and broken.stderr.startswith("broken.yaml:3:1: YAML syntax")


def _start(plan: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cockpit", "run", "move.yaml", "--headless"],
        cwd=plan.parent, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _wait_for(proc: subprocess.Popen[str], text: str) -> str:
    assert proc.stdout is not None
    seen = ""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        seen += line
        if text in line:
            return seen
    raise AssertionError(f"never saw {text!r} in {seen!r}")


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGHUP, 129), (signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signals_stop_cleanly_with_their_exit_code(plan: Path, signum: int, code: int) -> None:
    proc = _start(plan)
    try:
        _wait_for(proc, "[p-1] First manual thing")
        second = _start(plan)
        _, err = second.communicate(timeout=30)
        assert second.returncode == 2 and f"already being run by pid {proc.pid}" in err
        os.kill(proc.pid, signum)
        assert proc.wait(timeout=30) == code
    finally:
        proc.kill()
        proc.communicate()
    records = read_journal(plan.parent / ".cockpit" / "move.yaml.journal").records
    assert records[-1]["type"] == "RunFinished" and records[-1]["exit_code"] == code
    assert lock_is_free(plan.parent / ".cockpit" / "move.yaml.lock")


def test_report_of_a_plan_says_where_the_journal_is(plan: Path) -> None:
    refused = cockpit("report", "move.yaml", cwd=plan.parent)
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1
    assert "move.yaml is not a journal (a plan?): its journal would be" in refused.stderr
    cockpit("run", "move.yaml", "--headless", "--yes", cwd=plan.parent)
    again = cockpit("report", "move.yaml", cwd=plan.parent)
    journal = plan.parent / ".cockpit" / "move.yaml.journal"
    assert f"its journal is {journal}; run: cockpit report {journal}" in again.stderr
