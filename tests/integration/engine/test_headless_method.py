"""A whole three-phase plan, run by the real command line (headless) against loopback servers: RFC 2136
updates on a primary followed by a lagging secondary, SSH commands and a verified transfer between two
hosts, port checks, a countdown of the old TTL, and the report's downtime window afterwards."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.engine.conftest import SECRET, MethodLab, cockpit, three_phases


def journal_records(root: Path) -> list[dict[str, object]]:
    path = root / ".cockpit" / "plan.yaml.journal"
    return [json.loads(line.split(" ", 1)[1] if line[:1] != "{" else line) for line in path.read_text().splitlines()]


async def test_three_phase_plan_runs_to_done(method_lab: MethodLab) -> None:
    plan = method_lab.write_plan(three_phases(method_lab))
    result = await cockpit("run", str(plan), "--headless", "--yes", cwd=method_lab.root)
    assert result.code == 0, result.stdout + result.stderr
    out = result.stdout
    # every step done, in order, the side effects real
    assert "run done (exit 0)" in out, out
    assert method_lab.served_mx(method_lab.primary) == ("10 mail.new-host.net.", 1)
    assert method_lab.served_mx(method_lab.secondary) == ("10 mail.new-host.net.", 1)
    store = method_lab.new.sandbox / "store"
    assert sorted(p.name for p in store.iterdir()) == ["msg1", "msg2", "msg3", "msg4"]
    assert (store / "msg4").read_text() == "m4\n"
    # output streamed with host and stream, the transfer verified, the waits reported
    assert "[bulk-import] new stdout: msg1" in out
    assert "verified on new" in out
    assert "refuses connections" in out
    # the countdown waited the old TTL (1 s after lowering), measured from the last flip
    assert "old MX TTL 3 s" in out or "old MX TTL 1 s" in out, out
    assert SECRET not in out + result.stderr

    report = await cockpit("report", str(method_lab.root / ".cockpit" / "plan.yaml.journal"), cwd=method_lab.root)
    assert report.code == 0, report.stderr
    assert "ns1.example.com" in report.stdout and "ns2.example.com" in report.stdout
    assert "Downtime window" in report.stdout or "downtime" in report.stdout.lower()
    assert SECRET not in report.stdout


async def test_second_run_changes_nothing_again(method_lab: MethodLab) -> None:
    plan = method_lab.write_plan(three_phases(method_lab))
    first = await cockpit("run", str(plan), "--headless", "--yes", cwd=method_lab.root)
    assert first.code == 0, first.stdout
    commands_old, commands_new = len(method_lab.old.commands), len(method_lab.new.commands)
    second = await cockpit("run", str(plan), "--headless", "--yes", cwd=method_lab.root)
    assert second.code == 0, second.stdout + second.stderr
    assert (len(method_lab.old.commands), len(method_lab.new.commands)) == (commands_old, commands_new)


async def test_dry_run_changes_nothing(method_lab: MethodLab) -> None:
    phases = """\
  - name: only
    steps:
      - dns_update: {server: "127.0.0.1:PRIMARY", key: dnskey, mx: parking}
        id: mx-to-parking
      - ssh: {host: old, run: "touch should-not-exist"}
        id: touch
      - transfer: {from: "old:a", to: "new:b"}
        id: copy
""".replace("PRIMARY", str(method_lab.primary.port))
    plan = method_lab.write_plan(phases)
    result = await cockpit("run", str(plan), "--headless", "--yes", "--dry-run", cwd=method_lab.root)
    assert result.code == 0, result.stdout + result.stderr
    assert method_lab.served_mx(method_lab.primary) == ("10 mail.old-host.net.", 3)
    assert method_lab.old.commands == [] and method_lab.new.commands == []
    assert "would" in result.stdout


async def test_wrong_tsig_key_fails_the_update_without_showing_it(method_lab: MethodLab) -> None:
    wrong = "d3JvbmctdHNpZy1zZWNyZXQtMDEyMzQ1Njc4OWFiY2Q="
    (method_lab.root / "wrong.key").write_text(
        f'key "cockpit-test-key" {{\n\talgorithm hmac-sha256;\n\tsecret "{wrong}";\n}};\n'
    )
    phases = """\
  - name: only
    steps:
      - dns_update: {server: "127.0.0.1:PRIMARY", key: dnskey, mx: parking}
        id: mx-to-parking
""".replace("PRIMARY", str(method_lab.primary.port))
    plan = method_lab.write_plan(phases, key_file="wrong.key")
    result = await cockpit("run", str(plan), "--headless", "--yes", cwd=method_lab.root)
    assert result.code == 1, result.stdout
    assert "signature" in result.stdout.lower() or "REFUSED" in result.stdout or "BADSIG" in result.stdout
    assert method_lab.served_mx(method_lab.primary) == ("10 mail.old-host.net.", 3)
    journal = (method_lab.root / ".cockpit" / "plan.yaml.journal").read_text()
    for text in (result.stdout, result.stderr, journal):
        assert wrong not in text and SECRET not in text


async def test_failing_command_fails_the_step_with_its_status(method_lab: MethodLab) -> None:
    phases = """\
  - name: only
    steps:
      - ssh: {host: old, run: "echo to-stderr >&2; exit 7"}
        id: fails
      - ssh: {host: old, run: "touch never"}
        id: after
"""
    plan = method_lab.write_plan(phases)
    result = await cockpit("run", str(plan), "--headless", "--yes", cwd=method_lab.root)
    assert result.code == 1
    assert "exit status 7" in result.stdout
    assert "to-stderr" in result.stdout
    assert not (method_lab.old.sandbox / "never").exists()


async def test_unknown_host_key_fails_before_any_command(method_lab: MethodLab) -> None:
    method_lab.old.known_hosts.write_text("")
    phases = """\
  - name: only
    steps:
      - ssh: {host: old, run: "touch never"}
        id: touch
"""
    plan = method_lab.write_plan(phases)
    result = await cockpit("run", str(plan), "--headless", "--yes", cwd=method_lab.root)
    assert result.code == 1
    assert "SHA256:" in result.stdout and "ssh-keyscan" in result.stdout
    assert method_lab.old.commands == []
