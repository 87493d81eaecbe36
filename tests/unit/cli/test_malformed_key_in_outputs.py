"""A TSIG key with name and secret swapped, end to end: the run's output, its journal, both report formats and
`check --online` say what is wrong and never show the secret."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cockpit.engine.journal import journal_path

SECRET = "c2VjcmV0LXNlY3JldC1zZWNyZXQ="
PLAN = """\
version: 1
name: Swapped key
domains: [example.com]
nameservers: ["127.0.0.1:9"]
dns: {timeout: 1s}
ttl: 600
mx: {old: a.example.net., new: b.example.net.}
secrets:
  dnskey: {env: TSIGX}
phases:
  - name: p
    steps:
      - dns_update: {server: "127.0.0.1:9", key: dnskey, mx: new}
        id: flip
"""


def cockpit(*args: str, cwd: Path, value: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TSIGX": value}
    return subprocess.run([sys.executable, "-m", "cockpit", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=60)  # fmt: skip


def pieces(secret: str) -> list[str]:
    return [secret[i : i + 8] for i in range(len(secret) - 7)]


@pytest.mark.parametrize("value", [f"hmac-sha256:{SECRET}:demo-update", f"{SECRET}:demo-update"])
def test_swapped_key_never_reaches_output_journal_or_report(tmp_path: Path, value: str) -> None:
    plan = tmp_path / "move.yaml"
    plan.write_text(PLAN)
    ran = cockpit("run", "move.yaml", "--headless", "--yes", cwd=tmp_path, value=value)
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "environment variable TSIGX: the key name in ALGORITHM:NAME:SECRET looks like a base64 secret" in ran.stdout
    journal = journal_path(plan)
    shown = [ran.stdout, ran.stderr, journal.read_text()]
    for fmt in ("md", "html"):
        report = cockpit("report", str(journal), "--format", fmt, cwd=tmp_path, value=value)
        assert report.returncode == 0, report.stderr
        assert "looks like a base64 secret" in report.stdout
        shown.append(report.stdout)
    online = cockpit("check", "--online", "move.yaml", cwd=tmp_path, value=value)
    assert "BAD  secret  dnskey: environment variable TSIGX: the key name" in online.stdout, online.stdout
    shown += [online.stdout, online.stderr]
    for text in shown:
        for piece in pieces(SECRET):
            assert piece not in text
