"""kill -9 of the cockpit at random points of a 20,000-message sync, then a rerun: nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
from pathlib import Path

import pytest

from cockpit.lab.ssh_sshd import OpenSshServer
from tests.integration.mail.corpus import maildir_contents

MESSAGES = 20_000
KILLS = 10
CHILD = Path(__file__).with_name("sync_child.py")


def many_messages(root: Path, count: int) -> None:
    """A Maildir++ with `count` distinct small messages over the inbox and two folders, written directly."""
    rng = random.Random(7)
    for folder in ("", ".Sent", ".Archive.2024"):
        for sub in ("cur", "new", "tmp"):
            (root / folder / sub).mkdir(parents=True, exist_ok=True)
    for i in range(count):
        folder = ("", "", ".Sent", ".Archive.2024")[i % 4]
        flags = ("S", "RS", "", "FS")[i % 4]
        body = rng.randbytes(rng.randint(100, 900)).hex().encode()
        text = (
            f"From: s{i}@example.com\nSubject: message {i}\nMessage-ID: <m{i}@example.com>\n\n".encode() + body + b"\n"
        )
        sub = "new" if not flags else "cur"
        name = f"17000{i:05d}.M{i}P1.old" + (f":2,{flags}" if flags else "")
        (root / folder / sub / name).write_bytes(text)


class Child:
    def __init__(self, process: asyncio.subprocess.Process, errors: Path) -> None:
        self.process = process
        self.errors = errors
        self.copied = 0
        self.done = False

    @classmethod
    async def start(cls, config: dict[str, object]) -> Child:
        env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
        errors = Path(str(config["base"])) / f"child-{len(list(Path(str(config['base'])).glob('child-*')))}.err"
        with errors.open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                sys.executable, str(CHILD), json.dumps(config), stdout=asyncio.subprocess.PIPE, stderr=stderr, env=env
            )
        return cls(process, errors)

    def said(self) -> str:
        """The end of what the child wrote to stderr (why a run ended before copying, when it did)."""
        lines = self.errors.read_text(errors="replace").strip().splitlines()
        return " | ".join(lines[-3:]) if lines else "(nothing on stderr)"

    async def until(self, copied: int) -> None:
        """Reads progress until this run acknowledged `copied` messages, or it ended."""
        assert self.process.stdout is not None
        while self.copied < copied:
            line = await self.process.stdout.readline()
            if not line:
                return
            words = line.decode().split()
            if words[0] == "copied":
                self.copied = int(words[1])
            elif words[0] == "done":
                self.done = True
                return

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
        await self.process.wait()


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_kill_9_anywhere_then_resume(old_sshd: OpenSshServer, new_sshd: OpenSshServer, tmp_path: Path) -> None:
    source, dest = tmp_path / "old" / "carol" / "Maildir", tmp_path / "new" / "carol" / "Maildir"
    many_messages(source, MESSAGES)
    config = {
        "hosts": {"old": old_sshd.plan_host(), "new": new_sshd.plan_host()},
        "base": str(tmp_path),
        "source": {"host": "old", "format": "maildir", "path": f"{tmp_path}/old/{{user}}/Maildir"},
        "dest": {"host": "new", "format": "maildir", "path": f"{tmp_path}/new/{{user}}/Maildir"},
    }
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    kills = mid_copy = 0
    ended_early: list[str] = []
    while kills < KILLS:
        child = await Child.start(config)
        if rng.random() < 0.3:
            await asyncio.sleep(rng.uniform(0.05, 2.5))  # anywhere: start-up, inventory or copy
        else:
            await asyncio.wait_for(child.until(rng.randint(1, 1500)), 300)
        finished = child.done or child.process.returncode == 0
        if child.process.returncode not in (None, 0):
            ended_early.append(f"exit {child.process.returncode} after {child.copied}: {child.said()}")
        await child.kill()
        if finished:
            break  # what was left fitted before this kill point; the run below still has to find it all there
        kills += 1
        mid_copy += child.copied > 0
    # A kill point past the end of what was left (a start-up sleep on a fast machine) ends the loop early; three
    # kills inside the copy are the least this test stands for.
    assert mid_copy >= 3, f"only {mid_copy} kills landed while messages were copied (seed {seed}); {ended_early}"
    assert not ended_early, f"runs ended on their own before the kill (seed {seed}): {ended_early}"
    child = await Child.start(config)
    await asyncio.wait_for(child.until(MESSAGES + 1), 300)
    assert child.done, f"the last run did not finish (seed {seed})"
    await child.kill()

    theirs = maildir_contents(source)
    ours = maildir_contents(dest)
    assert sum(sum(c.values()) for c in theirs.values()) == MESSAGES
    lost = sum(sum((theirs[f] - ours.get(f, theirs[f].__class__())).values()) for f in theirs)
    duplicated = sum(sum((ours[f] - theirs.get(f, ours[f].__class__())).values()) for f in ours)
    assert (lost, duplicated) == (0, 0), f"seed {seed}"
    for folder in ("", ".Sent", ".Archive.2024"):
        assert not [p for p in (dest / folder / "tmp").iterdir() if p.name.startswith("cockpit-")]
