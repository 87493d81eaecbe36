"""`cockpit watch` end to end against a lab nameserver: text, JSON Lines, exit codes, bad arguments."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cockpit.commands.watch import watch
from cockpit.lab.nameserver import Behaviour
from tests.unit.dns.conftest import NEW, ThreadedLab

PLAN = """\
version: 1
name: Watch test
domains: [example.com, example.org]
nameservers: ["127.0.0.1:{port}"]
dns: {{interval: 1s, timeout: 1s}}
mx: {{old: mail.old-host.net., new: "10 mail.new-host.net."}}
phases:
  - name: p
    steps:
      - confirm: Nothing
"""


def _plan(tmp_path: Path, lab: ThreadedLab) -> str:
    path = tmp_path / "plan.yaml"
    path.write_text(PLAN.format(port=lab.ns.port))
    return str(path)


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(watch, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_once_text_lines(threaded_lab: ThreadedLab) -> None:
    code, out, _ = _run("example.com", "example.org", "--ns", f"127.0.0.1:{threaded_lab.ns.port}", "--once")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(";; round 1 at ") and "2 ok" in lines[0]
    assert lines[1].startswith(
        f"example.com.  3600  IN MX 10 mail.old-host.net.  @127.0.0.1:{threaded_lab.ns.port}  ok "
    )
    assert "serial 1" in lines[1] and "[" not in lines[1], "no state without a plan"
    assert len(lines) == 3


def test_once_json_lines(threaded_lab: ThreadedLab) -> None:
    code, out, _ = _run("example.com", "--ns", f"127.0.0.1:{threaded_lab.ns.port}", "--once", "--json")
    assert code == 0
    (record,) = [json.loads(line) for line in out.splitlines()]
    assert record["domain"] == "example.com" and record["address"] == "127.0.0.1"
    assert record["status"] == "ok" and record["mx"] == ["10 mail.old-host.net."]
    assert record["ttl"] == 3600 and record["serial"] == 1 and record["aa"] is True
    assert isinstance(record["rtt_ms"], float) and record["state"] is None
    assert record["observed_at"].endswith("Z") and record["nameserver"] == f"127.0.0.1:{threaded_lab.ns.port}"
    assert record["nsid"] is None and record["rrsig_expires"] is None, "the lab neither names itself nor signs"


def test_summary_without_a_plan_counts_answers_and_names_failures(threaded_lab: ThreadedLab) -> None:
    port = threaded_lab.ns.port
    code, out, _ = _run("example.com", "nomx.example", "absent.example", "--ns", f"127.0.0.1:{port}", "--once",
                        "--summary")  # fmt: skip
    assert code == 1, "absent.example is refused: not every pair answered for its zone"
    summary, failed = out.splitlines()
    assert re.fullmatch(rf"round 1 · 3 pairs · answered 2 · errors 1 · slowest 127\.0\.0\.1:{port} \(\d+ ms\)", summary)
    assert failed == f";; failed: absent.example @127.0.0.1:{port} refused"


def test_summary_json_with_a_plan(threaded_lab: ThreadedLab, tmp_path: Path) -> None:
    code, out, _ = _run(_plan(tmp_path, threaded_lab), "--once", "--summary", "--json")
    assert code == 0
    (record,) = [json.loads(line) for line in out.splitlines()]
    assert record["pairs"] == 2 and record["states"] == {"old": 2, "new": 0}
    assert record["unknown"] == 0 and record["errors"] == 0 and record["changed"] == 0


def test_once_exits_1_when_a_pair_fails(threaded_lab: ThreadedLab) -> None:
    threaded_lab.run(threaded_lab.ns.behave, Behaviour.REFUSED, "example.org")
    code, out, _ = _run("example.com", "example.org", "--ns", f"127.0.0.1:{threaded_lab.ns.port}", "--once", "--json")
    assert code == 1
    statuses = {json.loads(line)["domain"]: json.loads(line)["status"] for line in out.splitlines()}
    assert statuses == {"example.com": "ok", "example.org": "refused"}


def test_plan_names_states_and_until_converges_after_a_flip(threaded_lab: ThreadedLab, tmp_path: Path) -> None:
    plan = _plan(tmp_path, threaded_lab)

    def flip_later() -> None:
        threaded_lab.loop.call_later(0.3, threaded_lab.ns.set_mx, "example.com", NEW, 600)
        threaded_lab.loop.call_later(0.3, threaded_lab.ns.set_mx, "example.org", NEW, 600)

    threaded_lab.run(flip_later)
    code, out, _ = _run(plan, "--until", "new", "--interval", "0.1s", "--timeout", "10")
    assert code == 0
    assert "[old]" in out and "[new]" in out
    changes = [line for line in out.splitlines() if line.startswith(">> ")]
    assert len(changes) == 2
    assert "[old] 10 mail.old-host.net. TTL 3600 → [new] 10 mail.new-host.net. TTL 600" in changes[0]
    headers = [line for line in out.splitlines() if line.startswith(";; round")]
    assert headers[0].endswith("0/2 serve new") and headers[-1].endswith("2/2 serve new")


def test_until_times_out_with_exit_1(threaded_lab: ThreadedLab, tmp_path: Path) -> None:
    code, _, err = _run(_plan(tmp_path, threaded_lab), "--until", "new", "--interval", "0.1", "--timeout", "0.5")
    assert code == 1
    assert "not every pair serves new" in err


def test_until_already_converged(threaded_lab: ThreadedLab, tmp_path: Path) -> None:
    code, out, _ = _run(_plan(tmp_path, threaded_lab), "--until", "old", "--json")
    assert code == 0
    assert {json.loads(line)["state"] for line in out.splitlines()} == {"old"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["example.com", "--until", "new"], "needs a plan"),
        (["example.com", "--interval", "soon"], "--interval"),
        (["example.com", "--timeout", "0"], "--timeout must be more than zero"),
        (["example.com", "--ns", "not a host"], "--ns 'not a host'"),
        (["nodot"], "not a domain name"),
        (["missing-plan.yaml"], "missing-plan.yaml"),
        ([], "Missing argument"),
    ],
)
def test_bad_arguments_exit_2(args: list[str], message: str) -> None:
    result = CliRunner().invoke(watch, args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_bad_state_and_flag_combination(threaded_lab: ThreadedLab, tmp_path: Path) -> None:
    plan = _plan(tmp_path, threaded_lab)
    code, _, err = _run(plan, "--until", "parking")
    assert code == 2 and "the plan's MX states are old, new" in err
    code, _, err = _run(plan, "--until", "new", "--once")
    assert code == 2 and "exclude each other" in err


def test_ctrl_c_exits_130_without_a_traceback(threaded_lab: ThreadedLab) -> None:
    code = "import sys; from cockpit.commands.watch import watch; watch(sys.argv[1:])"
    args = ["example.com", "--ns", f"127.0.0.1:{threaded_lab.ns.port}", "--interval", "0.2"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith(b";; round 1")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130
    assert b"Traceback" not in err
