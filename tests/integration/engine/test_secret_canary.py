"""The secret canary: a run whose TSIG secrets and SSH key passphrase are known strings, with a failed
command, a DNS update refused for a bad signature, a connection dropped mid-command and a cockpit killed
mid-step; none of the strings may appear in anything the cockpit writes or prints.

The passphrase is typed for real: the child cockpit gets a pseudo-terminal as its controlling terminal and
asks on /dev/tty; the test types the passphrase there once the prompt (echo off) is shown. Answers to the
run's own prompts go through stdin, as an operator at a headless run would give them.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncssh

from cockpit.engine.journal import journal_path
from tests.integration.engine.child import Child, records
from tests.integration.engine.conftest import KEY_NAME, SECRET, MethodLab, cockpit

PASSPHRASE = "canary-passphrase-5be1c0de"
WRONG_SECRET = base64.b64encode(b"canary-wrong-tsig-secret-4242").decode()
CANARIES = {
    "passphrase": PASSPHRASE,
    "tsig secret": SECRET,
    "tsig secret bytes": base64.b64decode(SECRET).decode(),
    "wrong tsig secret": WRONG_SECRET,
    "wrong tsig secret bytes": base64.b64decode(WRONG_SECRET).decode(),
}

PHASES = """\
  - name: only
    steps:
      - dns_update: {server: "127.0.0.1:PRIMARY", key: dnskey, mx: parking}
        id: update-good
      - ssh: {host: old, run: "echo hello from old"}
        id: hello
      - ssh: {host: old, run: "echo about to fail >&2; exit 3"}
        id: exit-three
      - dns_update: {server: "127.0.0.1:PRIMARY", key: badkey, mx: new}
        id: update-bad
      - ssh: {host: new, run: "echo dropped-started; sleep 30; echo never"}
        id: dropped
      - ssh: {host: old, run: "echo killed-started; sleep 30; echo never"}
        id: killed
      - ssh: {host: new, run: "echo bye from new"}
        id: last
"""
GATE = "— [y]es / [n]o, stop here / [s]kip?"
FAILED = "— [r]etry / [s]kip / [n]o, stop here?"
INTERRUPTED = "— [r]erun / [d]one already / [s]kip / [n]o, stop here?"


class Terminal:
    """A pseudo-terminal: the child's /dev/tty. Types the passphrase at each prompt and keeps what it showed."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        self.path = os.ttyname(self.slave)
        self.shown = b""
        self.prompts = 0
        os.set_blocking(self.master, False)
        asyncio.get_running_loop().add_reader(self.master, self._readable)

    def _readable(self) -> None:
        try:
            data = os.read(self.master, 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # EIO: no one has the terminal open any more
            data = b""
        if not data:
            asyncio.get_running_loop().remove_reader(self.master)
            return
        self.shown += data
        while self.shown.count(b"assphrase for key") > self.prompts:
            self.prompts += 1
            os.write(self.master, PASSPHRASE.encode() + b"\n")

    def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self.master)
        os.close(self.master)
        os.close(self.slave)


@contextmanager
def terminal() -> Iterator[Terminal]:
    tty = Terminal()
    try:
        yield tty
    finally:
        tty.close()


async def operate(child: Child, lab: MethodLab, *, kill_at: str | None = None) -> None:
    """Answers every prompt of a step-mode run: yes at each gate, skip (with a reason) a failed or an
    interrupted step; drops the SSH connection of the `dropped` step mid-command; kills the cockpit itself
    once the step `kill_at` has started its command."""
    stdin = child.process.stdin
    assert stdin is not None
    seen = 0
    while await child.more(seen):
        text = child.stdout[seen]
        seen += 1
        if GATE in text:
            stdin.write(b"y\n")
        elif FAILED in text or INTERRUPTED in text:
            stdin.write(b"s\nskipped in the canary test\n")
        elif "[dropped] new stdout: dropped-started" in text:
            assert lab.new.drop_connections() >= 1
        elif kill_at is not None and f"[{kill_at}] old stdout: {kill_at}-started" in text:
            child.signal(signal.SIGKILL)
        with contextlib.suppress(ConnectionError):  # the cockpit may be gone
            await stdin.drain()


async def test_no_secret_anywhere(method_lab: MethodLab) -> None:
    root = method_lab.root
    key = asyncssh.generate_private_key("ssh-ed25519", comment="canary")
    identity = root / "canary_key"
    key.write_private_key(identity, passphrase=PASSPHRASE)
    identity.chmod(0o600)
    key.write_public_key(root / "canary_key.pub")
    for host in (method_lab.old, method_lab.new):
        host.authorize(root / "canary_key.pub")
    (root / "wrong.key").write_text(f'key "{KEY_NAME}" {{\n\talgorithm hmac-sha256;\n\tsecret "{WRONG_SECRET}";\n}};\n')
    text = method_lab.plan_text(PHASES.replace("PRIMARY", str(method_lab.primary.port)))
    for host in (method_lab.old, method_lab.new):
        text = text.replace(f"identity: {host.client_key}", f"identity: {identity}")
    text = text.replace("  dnskey: {file: tsig.key}\n", "  dnskey: {file: tsig.key}\n  badkey: {file: wrong.key}\n")
    plan = root / "plan.yaml"
    plan.write_text(text)
    journal = journal_path(plan)
    printed: list[str] = []

    # First run: every failure kind, then the cockpit itself is killed in the middle of a step.
    with terminal() as tty:
        child = await Child.start(
            "run", str(plan), "--headless", cwd=root, stdin=asyncio.subprocess.PIPE, terminal=tty.path
        )
        await asyncio.wait_for(operate(child, method_lab, kill_at="killed"), 60)
        assert await child.wait() == -signal.SIGKILL, child.out + child.err
        shown = tty.shown
    printed += [child.out, child.err, shown.decode("utf-8", "replace")]
    assert tty.prompts == 1, f"the passphrase is asked once per run: {shown!r}"
    assert shown.startswith(b"Passphrase for key ") and str(identity).encode() in shown, shown
    assert PASSPHRASE.encode() not in shown, "typed with echo off"
    out = child.out
    assert "[update-good] done" in out, out
    assert "[hello] old stdout: hello from old" in out
    assert "exit status 3" in out and "about to fail" in out
    assert "signature" in out.lower(), out
    assert "connection lost — outcome unknown" in out
    assert "[killed] old stdout: killed-started" in out

    # Second run: resumes, asks the passphrase again (a new process), the killed step needs a decision.
    with terminal() as tty:
        child = await Child.start(
            "run", str(plan), "--headless", cwd=root, stdin=asyncio.subprocess.PIPE, terminal=tty.path
        )
        await asyncio.wait_for(operate(child, method_lab), 60)
        code = await child.wait()
        shown = tty.shown
    printed += [child.out, child.err, shown.decode("utf-8", "replace")]
    assert code == 0, child.out + child.err
    assert "[killed] started before the cockpit stopped: outcome unknown" in child.out
    assert "[last] new stdout: bye from new" in child.out
    assert "run done (exit 0)" in child.out
    assert tty.prompts == 1 and PASSPHRASE.encode() not in shown

    results = {r["step_id"]: r["state"] for r in records(journal) if r["type"] == "StepChanged"}
    assert results == {
        "update-good": "done",
        "hello": "done",
        "exit-three": "skipped",
        "update-bad": "skipped",
        "dropped": "skipped",
        "killed": "skipped",
        "last": "done",
    }, results

    for fmt in ("md", "html"):
        report = await cockpit("report", str(journal), "--format", fmt, cwd=root)
        assert report.code == 0, report.stderr
        printed += [report.stdout, report.stderr]
    md = printed[-4]
    # The report shows each failure, also of the steps the operator then skipped, with its last output.
    failures = md[md.index("## Failures") :]
    for step_id in ("exit-three", "update-bad", "dropped", "killed"):
        assert f"### {step_id} (finally skipped)" in failures, failures
    assert "old stderr: about to fail" in failures and "exit status 3" in failures
    assert "signature" in failures.lower()
    assert "connection lost — outcome unknown" in failures and "new stdout: dropped-started" in failures
    assert "interrupted: the cockpit stopped during the step — outcome unknown" in failures
    assert "old stdout: killed-started" in failures, "journaled before it was printed, so before the kill"

    files = [path for path in journal.parent.rglob("*") if path.is_file()]
    assert journal in files
    for name, canary in CANARIES.items():
        for index, text in enumerate(printed):
            assert canary not in text, f"the {name} was printed (output {index})"
        for path in files:
            assert canary.encode() not in path.read_bytes(), f"the {name} is in {path.name}"
    assert list_secret_files(root) == []


def list_secret_files(root: Path) -> list[Path]:
    """Files the cockpit may have left beside the plan other than its own folder: none expected."""
    expected = {"plan.yaml", "tsig.key", "wrong.key", "canary_key", "canary_key.pub"}
    return [p for p in root.iterdir() if p.is_file() and p.name not in expected]
