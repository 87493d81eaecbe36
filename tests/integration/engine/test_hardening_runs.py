"""Runs against the lab at their edges: a changed host key found before anything changes, SIGTERM while the
passphrase is asked, and a disk that fills under the journal."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import termios
from collections.abc import Iterator
from pathlib import Path

import asyncssh
import pytest

from cockpit.engine.journal import journal_path, read_journal
from tests.integration.engine.child import WAIT, Child
from tests.integration.engine.conftest import MethodLab, cockpit
from tests.support import missing

TWO_HOSTS = """\
  - name: only
    steps:
      - ssh: {host: new, run: "echo touched > touched"}
        id: touch-new
      - ssh: {host: old, run: "echo hello"}
        id: hello-old
"""


async def test_a_changed_host_key_stops_the_run_before_any_step(method_lab: MethodLab) -> None:
    wrong = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().split()
    known = method_lab.root / "old_known_hosts"
    known.write_text(f"[127.0.0.1]:{method_lab.old.port} {wrong[0]} {wrong[1]}\n")
    plan = method_lab.write_plan(TWO_HOSTS)
    plan.write_text(plan.read_text().replace(f"known_hosts: {method_lab.old.known_hosts}", f"known_hosts: {known}"))
    ran = await cockpit("run", str(plan), "--headless", "--yes", cwd=method_lab.root)
    assert ran.code == 1, ran.stdout + ran.stderr
    assert "error: old: " in ran.stdout and "nothing was changed" in ran.stdout, ran.stdout
    assert "host key" in ran.stdout.lower()
    assert not (method_lab.new.sandbox / "touched").exists(), "a step on new ran before the key of old was checked"
    states = [r for r in read_journal(journal_path(plan)).records if r["type"] in ("StepChanged", "StepIntent")]
    assert states == []


class Tty:
    """A pseudo-terminal for the child's /dev/tty that types nothing: the prompt just waits."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        self.path = os.ttyname(self.slave)
        self.shown = b""
        os.set_blocking(self.master, False)
        asyncio.get_running_loop().add_reader(self.master, self._readable)

    def _readable(self) -> None:
        try:
            self.shown += os.read(self.master, 4096)
        except BlockingIOError:
            return
        except OSError:
            asyncio.get_running_loop().remove_reader(self.master)

    def close(self) -> None:
        with contextlib.suppress(ValueError):
            asyncio.get_running_loop().remove_reader(self.master)
        os.close(self.master)
        os.close(self.slave)


@contextlib.contextmanager
def tty() -> Iterator[Tty]:
    terminal = Tty()
    try:
        yield terminal
    finally:
        terminal.close()


async def test_sigterm_at_the_passphrase_prompt_stops_at_once_and_restores_echo(method_lab: MethodLab) -> None:
    root = method_lab.root
    key = asyncssh.generate_private_key("ssh-ed25519")
    identity = root / "locked_key"
    key.write_private_key(identity, passphrase="never typed")
    identity.chmod(0o600)
    plan = method_lab.write_plan(TWO_HOSTS)
    plan.write_text(plan.read_text().replace(f"identity: {method_lab.new.client_key}", f"identity: {identity}"))
    with tty() as terminal:
        child = await Child.start("run", str(plan), "--headless", "--yes", cwd=root, terminal=terminal.path)
        for _ in range(int(WAIT / 0.05)):
            if b"assphrase for key" in terminal.shown:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"no passphrase prompt: {terminal.shown!r}\n{child.out}")
        child.signal(signal.SIGTERM)
        code = await child.wait(timeout=15)
        flags = termios.tcgetattr(terminal.slave)[3]
    assert code == 143, child.out + child.err
    assert "run stopped (exit 143)" in child.out
    assert flags & termios.ECHO, "the terminal's echo was left off"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB file system of its own (tmpfs), for a disk that fills."""
    mount = tmp_path / "small"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        missing(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


CHATTY = """\
  - name: only
    steps:
      - ssh: {host: old, run: "for i in $(seq 1 300); do echo line $i of a step that talks a lot; done"}
        id: chatty
      - ssh: {host: old, run: "echo after"}
        id: after
"""


async def test_a_full_disk_stops_the_run_saying_where_and_a_resume_finishes(
    method_lab: MethodLab, small_disk: Path
) -> None:
    text = method_lab.plan_text(CHATTY, key_file=str(method_lab.root / "tsig.key"))
    plan = small_disk / "plan.yaml"
    plan.write_text(text)
    filler = small_disk / "filler"
    filler.write_bytes(b"x" * (256 * 1024 - 4096 * 3 - len(text)))  # leaves room for a few records only
    free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    assert free < 16 * 1024, free
    ran = await cockpit("run", str(plan), "--headless", "--yes", cwd=small_disk)
    assert ran.code == 1, ran.stdout + ran.stderr
    journal = journal_path(plan)
    assert f"the disk is full: cannot write the journal {journal} (No space left on device)" in ran.stdout, ran.stdout
    assert "internal error" not in ran.stdout + ran.stderr and "Traceback" not in ran.stderr
    contents = read_journal(journal)
    intact = len(contents.records)
    assert f"the journal is intact up to record {intact}" in ran.stdout
    assert "run failed (exit 1)" in ran.stdout
    filler.unlink()
    resumed = await cockpit("run", str(plan), "--headless", "--yes", "--decide", "chatty=rerun", cwd=small_disk)
    assert resumed.code == 0, resumed.stdout + resumed.stderr
    assert "[after] old stdout: after" in resumed.stdout
    assert read_journal(journal).records[-1]["type"] == "RunFinished"
