"""Each failure is one clear line, and nothing half-copied is left where it would count as a message:
a path that matches nothing, an unreadable mailbox, a host without python3, a full disk, a lost connection."""

from __future__ import annotations

import mailbox
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from cockpit.lab.ssh_sshd import OpenSshServer
from cockpit.mail import (
    DiskFullError,
    MailEvent,
    MailProgress,
    NothingMatchedError,
    PythonMissingError,
    StoreSpec,
    UnreadableMailboxError,
    sync,
    verify,
)
from cockpit.ssh import ConnectionLostError, HostConnections
from tests.integration.mail.corpus import canonical, contents_only, maildir_contents, mbox_contents, write_mbox


def force_command(server: OpenSshServer, command: str) -> None:
    """Every session of this server runs `command` (with $SSH_ORIGINAL_COMMAND) instead of the one asked for."""
    keys = server.root / "authorized_keys"
    escaped = command.replace("\\", "\\\\").replace('"', '\\"')
    keys.write_text(f'command="{escaped}" {keys.read_text()}')


def letters(count: int, size: int) -> list[bytes]:
    return [
        f"Subject: letter {i}\nMessage-ID: <letter{i}@example.com>\n\n".encode()
        + os.urandom(size // 2).hex().encode()
        + b"\n"
        for i in range(count)
    ]


async def test_a_store_path_that_matches_nothing(hosts: HostConnections, tmp_path: Path) -> None:
    source = StoreSpec("old", "maildir", f"{tmp_path}/nowhere/{{user}}/Maildir")
    with pytest.raises(NothingMatchedError) as caught:
        await sync(hosts, source, StoreSpec("new", "maildir", f"{tmp_path}/new/{{user}}/Maildir"))
    assert str(caught.value) == f"old: the store path {tmp_path}/nowhere/{{user}}/Maildir matches nothing"
    assert not (tmp_path / "new").exists()


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder another user can reach (the test's own tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="cockpit-mail-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


async def test_an_unreadable_mailbox(old_sshd: OpenSshServer, hosts: HostConnections, shared_dir: Path) -> None:
    write_mbox(shared_dir / "spool" / "alice", letters(2, 100))
    write_mbox(shared_dir / "spool" / "bob", letters(2, 100))
    (shared_dir / "spool").chmod(0o755)
    (shared_dir / "spool" / "bob").chmod(0o644)
    (shared_dir / "spool" / "alice").chmod(0o600)
    if os.geteuid() == 0:  # root reads everything: the old host's sessions run as nobody instead
        force_command(
            old_sshd, 'exec setpriv --reuid=65534 --regid=65534 --clear-groups /bin/sh -c "$SSH_ORIGINAL_COMMAND"'
        )
    source = StoreSpec("old", "mbox", f"{shared_dir}/spool/{{user}}")
    with pytest.raises(UnreadableMailboxError) as caught:
        await sync(hosts, source, StoreSpec("new", "maildir", f"{shared_dir}/new/{{user}}/Maildir"))
    assert str(caught.value) == f"old: cannot read {shared_dir}/spool/alice: Permission denied"
    assert not (shared_dir / "new").exists()


async def test_a_host_without_python3(new_sshd: OpenSshServer, hosts: HostConnections, tmp_path: Path) -> None:
    write_mbox(tmp_path / "old" / "alice", letters(3, 100))
    before = (tmp_path / "old" / "alice").read_bytes()
    force_command(new_sshd, 'exec env PATH=/nonexistent /bin/sh -c "$SSH_ORIGINAL_COMMAND"')
    source = StoreSpec("old", "mbox", f"{tmp_path}/old/{{user}}")
    dest = StoreSpec("new", "maildir", f"{tmp_path}/new/{{user}}/Maildir")
    with pytest.raises(PythonMissingError) as caught:
        await sync(hosts, source, dest)
    assert str(caught.value) == "new: python3 not found — the mail steps need python3 on the host"
    with pytest.raises(PythonMissingError):
        await verify(hosts, source, dest)
    assert not (tmp_path / "new").exists()
    assert (tmp_path / "old" / "alice").read_bytes() == before


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1.5 MiB tmpfs (needs root: elsewhere the test skips)."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1536k", "tmpfs", str(mount_point)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


async def test_disk_full_on_new(hosts: HostConnections, tmp_path: Path, small_disk: Path) -> None:
    originals = letters(40, 100_000)
    write_mbox(tmp_path / "old" / "alice", originals)
    source = StoreSpec("old", "mbox", f"{tmp_path}/old/{{user}}")
    dest = StoreSpec("new", "maildir", f"{small_disk}/{{user}}/Maildir")
    with pytest.raises(DiskFullError) as caught:
        await sync(hosts, source, dest)
    text = str(caught.value)
    assert text.startswith(f"new: disk full writing {small_disk}/alice/Maildir/tmp/cockpit-")
    assert text.endswith(": No space left on device; the partial file was removed")
    maildir = small_disk / "alice" / "Maildir"
    assert list((maildir / "tmp").iterdir()) == []
    wanted = {canonical(m) for m in originals}
    there = contents_only(maildir_contents(maildir)[""])
    assert set(there) <= wanted and max(there.values(), default=1) == 1

    subprocess.run(["mount", "-o", "remount,size=16m", str(small_disk)], check=True)
    await sync(hosts, source, dest)
    assert (await verify(hosts, source, dest)).ok
    assert contents_only(maildir_contents(maildir)[""]) == {content: 1 for content in wanted}


async def test_a_lost_connection_then_a_rerun(new_sshd: OpenSshServer, hosts: HostConnections, tmp_path: Path) -> None:
    write_mbox(tmp_path / "old" / "alice", letters(3000, 12_000))
    (tmp_path / "new").mkdir()
    write_mbox(tmp_path / "new" / "alice", [b"Subject: was there before\n\nkeep me\n"])
    source = StoreSpec("old", "mbox", f"{tmp_path}/old/{{user}}")
    dest = StoreSpec("new", "mbox", f"{tmp_path}/new/{{user}}")
    killed: list[int] = []

    def cut(event: MailEvent) -> None:
        if isinstance(event, MailProgress) and event.phase == "copy" and event.messages_done and not killed:
            killed.append(new_sshd.signal_sessions(signal.SIGKILL, tree=True))

    with pytest.raises(ConnectionLostError) as caught:
        await sync(hosts, source, dest, sink=cut)
    assert killed
    assert (
        str(caught.value)
        == "new: connection lost — outcome unknown (during the sync; a rerun copies only what is missing)"
    )
    assert Path(f"{tmp_path}/new/alice.cockpit-append").exists()

    second = await sync(hosts, source, dest)
    assert 0 < second.messages_copied < 3000
    report = await verify(hosts, source, dest)
    assert report.ok and report.only_on_new == 1, report.lines()
    ours, theirs = mbox_contents(tmp_path / "new" / "alice"), mbox_contents(tmp_path / "old" / "alice")
    assert ours - theirs == {next(iter(ours - theirs)): 1} and theirs - ours == {}
    assert not Path(f"{tmp_path}/new/alice.cockpit-append").exists()
    assert not Path(f"{tmp_path}/new/alice.lock").exists()
    assert len(mailbox.mbox(str(tmp_path / "new" / "alice"))) == 3001
