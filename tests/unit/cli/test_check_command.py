"""`cockpit check` and `cockpit schema` as a user runs them: exit codes, stdout, stderr, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import SAMPLES


def cockpit(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cockpit", *args], capture_output=True, text=True, cwd=cwd, timeout=60)


def test_valid_plans_print_a_summary() -> None:
    result = cockpit("check", str(SAMPLES / "sendmail-mbox.yaml"), str(SAMPLES / "demo.yaml"))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{SAMPLES / 'sendmail-mbox.yaml'}: ok — Move example.com mail")
    assert "3 phases (before, during, after), 23 steps (6 change servers), 2 hosts, 1 domain, 2 nameservers" in lines[0]


def test_invalid_plan_lists_located_errors_and_exits_2(tmp_path: Path) -> None:
    plan = tmp_path / "sample.yaml"
    text = (SAMPLES / "sendmail-mbox.yaml").read_text()
    text = text.replace("{host: new, run: /root/bin/create-accounts", "{host: newer, run: /root/bin/create-accounts")
    text = text.replace("ttl: 600\n", "ttl: 600\nttl: 300\n")
    plan.write_text(text)
    result = cockpit("check", "sample.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("sample.yaml:19:1: duplicate key 'ttl' (first at line 18)")
    assert (
        lines[1].startswith("sample.yaml:")
        and "step 4 of phase 'before': unknown host 'newer' (hosts: old, new)" in lines[1]
    )
    assert "Traceback" not in result.stderr


def test_missing_file_is_one_line() -> None:
    result = cockpit("check", "no-such-plan.yaml")
    assert result.returncode == 2
    assert result.stderr == "no-such-plan.yaml: no such file\n"


def test_mixed_good_and_bad_exits_2_and_still_checks_all(tmp_path: Path) -> None:
    (tmp_path / "empty.yaml").write_text("")
    result = cockpit("check", str(tmp_path / "empty.yaml"), str(SAMPLES / "demo.yaml"))
    assert result.returncode == 2
    assert "demo.yaml: ok" in result.stdout
    assert result.stderr == f"{tmp_path / 'empty.yaml'}:1:1: the file is empty; a plan starts with 'version: 1'\n"


def test_check_needs_a_plan() -> None:
    result = cockpit("check")
    assert result.returncode == 2
    assert "Missing argument" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_command_is_a_usage_error() -> None:
    result = cockpit("chekc")
    assert result.returncode == 2
    assert "No such command 'chekc'" in result.stderr


def test_schema_is_json_schema_of_plan_v1() -> None:
    result = cockpit("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "mx-cockpit plan v1"
    assert schema["$schema"].endswith("2020-12/schema")
    assert set(schema["required"]) == {"version", "name", "mx", "phases"}
    assert schema["oneOf"] == [{"required": ["domains"]}, {"required": ["domains_file"]}]


def test_version() -> None:
    result = cockpit("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("cockpit, version ")
