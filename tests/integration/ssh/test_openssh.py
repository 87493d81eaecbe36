"""The SSH layer against a real OpenSSH sshd: streaming, exit status, transfer, host keys, faults, cancel."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from cockpit.lab.ssh_sshd import OpenSshServer
from cockpit.plan import Host, HostPath
from cockpit.ssh import (
    ChangedHostKeyError,
    ConnectionLostError,
    HostConnections,
    OutputLines,
    SshEvent,
    UnknownHostKeyError,
    run_command,
    transfer,
)


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


HANG_GUARD = 30.0
"""Only to turn a hang into a failure; nothing here asserts how fast anything is."""


def pool(server: OpenSshServer, base: Path, **changes: object) -> HostConnections:
    return HostConnections({"box": Host.model_validate({**server.plan_host(), **changes})}, base_dir=base)


def lines_of(events: list[SshEvent], stream: str) -> list[str]:
    return [line for e in events if isinstance(e, OutputLines) and e.stream == stream for line in e.lines]


async def test_streamed_lines_arrive_in_order_with_stderr_apart(sshd: OpenSshServer, tmp_path: Path) -> None:
    events: list[SshEvent] = []
    async with pool(sshd, tmp_path) as hosts:
        command = "for i in $(seq 1 200); do echo out$i; echo err$i >&2; done"
        result = await run_command(await hosts.connect("box"), command, host="box", sink=events.append)
    assert result.ok
    assert lines_of(events, "stdout") == [f"out{i}" for i in range(1, 201)]
    assert lines_of(events, "stderr") == [f"err{i}" for i in range(1, 201)]


async def test_exit_status_7_is_reported_as_7(sshd: OpenSshServer, tmp_path: Path) -> None:
    async with pool(sshd, tmp_path) as hosts:
        result = await run_command(await hosts.connect("box"), "exit 7", host="box")
    assert result.exit_status == 7


async def test_pty_on_openssh(sshd: OpenSshServer, tmp_path: Path) -> None:
    events: list[SshEvent] = []
    async with pool(sshd, tmp_path) as hosts:
        conn = await hosts.connect("box")
        await run_command(conn, "[ -t 1 ] && echo tty; echo e >&2", host="box", sink=events.append, pty=True)
    assert lines_of(events, "stdout") == ["tty", "e"]


async def test_a_50_mb_transfer_arrives_byte_identical(sshd: OpenSshServer, tmp_path: Path) -> None:
    data = os.urandom(50 * 1024 * 1024)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "mail.tar").write_bytes(data)
    plan_hosts = {name: Host.model_validate(sshd.plan_host()) for name in ("old", "new")}
    async with HostConnections(plan_hosts, base_dir=tmp_path) as hosts:
        result = await asyncio.wait_for(
            transfer(
                hosts,
                HostPath("old", str(tmp_path / "a" / "mail.tar")),
                HostPath("new", str(tmp_path / "b" / "mail.tar")),
            ),
            120,
        )
    assert (tmp_path / "b" / "mail.tar").read_bytes() == data
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert names(tmp_path / "b") == ["mail.tar"]


async def test_an_empty_known_hosts_fails_before_any_command_runs(sshd: OpenSshServer, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("")
    marker = tmp_path / "ran"
    async with pool(sshd, tmp_path, known_hosts=str(empty)) as hosts:
        with pytest.raises(UnknownHostKeyError) as caught:
            conn = await hosts.connect("box")
            await run_command(conn, f"touch {marker}", host="box")
    fingerprint = asyncssh.read_public_key(sshd.host_key.with_suffix(".pub")).get_fingerprint("sha256")
    assert f"ssh-ed25519 {fingerprint}" in str(caught.value)
    assert "ssh-keyscan" in str(caught.value)
    assert not marker.exists()


async def test_a_changed_host_key_fails_before_any_command_runs(sshd: OpenSshServer, tmp_path: Path) -> None:
    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().split()
    pinned = tmp_path / "pinned"
    pinned.write_text(f"[127.0.0.1]:{sshd.port} {other[0]} {other[1]}\n")
    marker = tmp_path / "ran"
    async with pool(sshd, tmp_path, known_hosts=str(pinned)) as hosts:
        with pytest.raises(ChangedHostKeyError, match="HOST KEY CHANGED"):
            conn = await hosts.connect("box")
            await run_command(conn, f"touch {marker}", host="box")
    assert not marker.exists()


async def _fails_as_lost(hosts: HostConnections, fault: Any) -> ConnectionLostError:
    started = asyncio.Event()

    def sink(event: SshEvent) -> None:
        if isinstance(event, OutputLines) and "tick" in event.lines:
            started.set()

    conn = await hosts.connect("box")
    command = "while true; do echo tick; sleep 0.2; done"
    task = asyncio.create_task(run_command(conn, command, host="box", sink=sink))
    await asyncio.wait_for(started.wait(), HANG_GUARD)
    fault()
    with pytest.raises(ConnectionLostError) as caught:
        await asyncio.wait_for(task, HANG_GUARD)
    assert "connection lost — outcome unknown" in str(caught.value)
    return caught.value


async def test_killing_the_sessions_sshd_fails_the_step_as_connection_lost(sshd: OpenSshServer, tmp_path: Path) -> None:
    async with pool(sshd, tmp_path) as hosts:
        await _fails_as_lost(hosts, lambda: sshd.signal_sessions(signal.SIGKILL))


async def test_a_black_holed_session_fails_by_keepalive(sshd: OpenSshServer, tmp_path: Path) -> None:
    async with pool(sshd, tmp_path, keepalive_interval=1, keepalive_count=2) as hosts:
        try:
            await _fails_as_lost(hosts, lambda: sshd.signal_sessions(signal.SIGSTOP))
        finally:
            sshd.signal_sessions(signal.SIGCONT, tree=True)


async def test_cancelling_a_step_kills_the_remote_process(sshd: OpenSshServer, tmp_path: Path, waits: Any) -> None:
    pid_file = tmp_path / "pid"
    async with pool(sshd, tmp_path) as hosts:
        conn = await hosts.connect("box")
        task = asyncio.create_task(run_command(conn, f"echo $$ > {pid_file}; sleep 60; echo never", host="box"))
        pid = await waits.pid_in(pid_file)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await waits.gone(pid)
        # The connection stays usable after a cancel.
        assert (await run_command(conn, "true", host="box")).ok


async def test_a_timeout_kills_the_remote_process(sshd: OpenSshServer, tmp_path: Path, waits: Any) -> None:
    pid_file = tmp_path / "pid"
    async with pool(sshd, tmp_path) as hosts:
        conn = await hosts.connect("box")
        with pytest.raises(Exception, match="timed out"):
            await run_command(conn, f"echo $$ > {pid_file}; exec sleep 60", host="box", timeout=1)
        assert await waits.gone(await waits.pid_in(pid_file))
