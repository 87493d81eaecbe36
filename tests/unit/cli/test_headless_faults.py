"""Headless runs at their edges: a reader that closes stdout, a failed step resumed with --decide, an ssh config
the cockpit cannot read."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from cockpit.engine.journal import journal_path, read_journal
from tests.support import missing

WAIT = 60

CONFIRMS = """\
version: 1
name: Pipe closed
domains: [example.com]
mx: {old: a.example.net., new: b.example.net.}
phases:
  - name: p
    steps:
      - confirm: First manual thing
      - confirm: Second manual thing
"""


def cockpit(
    *args: str, cwd: Path, env: dict[str, str] | None = None, prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*prefix, sys.executable, "-m", "cockpit", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=WAIT, env=env, stdin=subprocess.DEVNULL)  # fmt: skip


def test_a_closed_stdout_stops_the_run_promptly_with_the_journal_closed(tmp_path: Path) -> None:
    plan = tmp_path / "move.yaml"
    plan.write_text(CONFIRMS)
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head -1` after its line: nobody reads any more
    stdin_read, stdin_write = os.pipe()  # stdin stays open: without the fix the prompt waits for ever
    try:
        process = subprocess.Popen([sys.executable, "-m", "cockpit", "run", "move.yaml", "--headless"], cwd=tmp_path,
                                   stdin=stdin_read, stdout=write_end, stderr=subprocess.PIPE)  # fmt: skip
        os.close(write_end)
        try:
            _, err = process.communicate(timeout=WAIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise AssertionError("the cockpit hung with its stdout closed") from None
    finally:
        os.close(stdin_read)
        os.close(stdin_write)
    assert process.returncode == 141, err
    assert b"Traceback" not in err and b"internal error" not in err
    records = read_journal(journal_path(plan)).records
    assert records[-1]["type"] == "RunFinished" and records[-1]["exit_code"] == 141


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


PORT_PLAN = """\
version: 1
name: Failed step
domains: [example.com]
mx: {old: a.example.net., new: b.example.net.}
phases:
  - name: p
    steps:
      - port: {address: 127.0.0.1, port: PORT, expect: open}
        id: listens
      - confirm: Afterwards
"""


def test_a_failed_step_is_named_with_the_way_on_and_decide_is_honoured(tmp_path: Path) -> None:
    port = closed_port()
    plan = tmp_path / "move.yaml"
    plan.write_text(PORT_PLAN.replace("PORT", str(port)))
    first = cockpit("run", "move.yaml", "--headless", "--yes", cwd=tmp_path)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "error: step listens failed: " in first.stdout
    assert "resume with --decide listens=retry or --decide listens=skip" in first.stdout
    again = cockpit("run", "move.yaml", "--headless", "--yes", cwd=tmp_path)
    assert again.returncode == 1 and "--decide listens=retry" in again.stdout, "still failed, still named"
    with socket.socket() as server:  # now something listens: a retry succeeds
        server.bind(("127.0.0.1", port))
        server.listen()
        retried = cockpit("run", "move.yaml", "--headless", "--yes", "--decide", "listens=retry", cwd=tmp_path)
    assert retried.returncode == 0, retried.stdout
    assert "[listens] retry by --decide" in retried.stdout and "run done (exit 0)" in retried.stdout


def test_decide_skip_skips_a_failed_step_and_a_wrong_word_is_one_line(tmp_path: Path) -> None:
    plan = tmp_path / "move.yaml"
    plan.write_text(PORT_PLAN.replace("PORT", str(closed_port())))
    assert cockpit("run", "move.yaml", "--headless", "--yes", cwd=tmp_path).returncode == 1
    wrong = cockpit("run", "move.yaml", "--headless", "--yes", "--decide", "listens=later", cwd=tmp_path)
    assert wrong.returncode == 2 and len(wrong.stderr.strip().splitlines()) == 1, wrong.stderr
    skipped = cockpit("run", "move.yaml", "--headless", "--yes", "--decide", "listens=skip", cwd=tmp_path)
    assert skipped.returncode == 0, skipped.stdout
    assert "[listens] skipped: skipped (--decide)" in skipped.stdout
    results = {r["step_id"]: r["state"] for r in read_journal(journal_path(plan)).records if r["type"] == "StepChanged"}
    assert results == {"listens": "skipped", "p-2": "done"}


SSH_PLAN = """\
version: 1
name: Unreadable ssh config
domains: [example.com]
mx: {old: a.example.net., new: b.example.net.}
hosts:
  old: {address: 127.0.0.1, port: PORT, user: root}
phases:
  - name: p
    steps:
      - ssh: {host: old, run: "true"}
"""
WITHOUT_OVERRIDE = ("setpriv", "--bounding-set=-dac_override,-dac_read_search",
                    "--inh-caps=-dac_override,-dac_read_search")  # fmt: skip
"""Root without the power to read any file: a mode-000 file is then unreadable, as for any other user."""


def test_an_unreadable_ssh_config_is_one_clear_line(tmp_path: Path) -> None:
    if subprocess.run([*WITHOUT_OVERRIDE, "true"], capture_output=True).returncode != 0:
        missing("setpriv cannot drop capabilities here")
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    config = home / ".ssh" / "config"
    config.write_text("Host *\n  User nobody\n")
    config.chmod(0)
    (tmp_path / "move.yaml").write_text(SSH_PLAN.replace("PORT", str(closed_port())))
    env = {**os.environ, "HOME": str(home)}
    env.pop("SSH_AUTH_SOCK", None)
    check = cockpit("check", "--online", "move.yaml", cwd=tmp_path, env=env, prefix=WITHOUT_OVERRIDE)
    assert f"BAD  ssh     old: cannot read {config}: Permission denied" in check.stdout, check.stdout + check.stderr
    ran = cockpit("run", "move.yaml", "--headless", "--yes", cwd=tmp_path, env=env, prefix=WITHOUT_OVERRIDE)
    assert ran.returncode == 1
    assert f"[p-1] failed: old: cannot read {config}: Permission denied" in ran.stdout, ran.stdout
    for text in (check.stdout, check.stderr, ran.stdout, ran.stderr):
        assert "internal error" not in text and "Traceback" not in text
