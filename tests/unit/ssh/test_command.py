"""Running commands on an in-process SSH host: streaming, exit status, PTY, timeout, cancel, line cut."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from cockpit.lab.ssh_host import LabSshHost
from cockpit.ssh import (
    CommandTimeoutError,
    ConnectionLostError,
    HostConnections,
    OutputLines,
    SshEvent,
    run_command,
)


def lines_of(events: list[SshEvent], stream: str) -> list[str]:
    return [line for e in events if isinstance(e, OutputLines) and e.stream == stream for line in e.lines]


async def test_lines_stream_in_order_with_stderr_apart(hosts: HostConnections) -> None:
    events: list[SshEvent] = []
    conn = await hosts.connect("old")
    result = await run_command(
        conn, "for i in 1 2 3; do echo out$i; echo err$i >&2; done", host="old", sink=events.append
    )
    assert result.exit_status == 0 and result.ok
    assert lines_of(events, "stdout") == ["out1", "out2", "out3"]
    assert lines_of(events, "stderr") == ["err1", "err2", "err3"]


async def test_lines_arrive_while_the_command_still_runs(hosts: HostConnections, lab: LabSshHost) -> None:
    """The command waits for a file that the sink creates on seeing the first line: only streaming ends it."""
    go = lab.sandbox / "go"
    seen: list[str] = []

    def sink(event: SshEvent) -> None:
        assert isinstance(event, OutputLines)
        seen.extend(event.lines)
        if "first" in event.lines:
            go.touch()

    conn = await hosts.connect("old")
    command = "echo first; while [ ! -e go ]; do sleep 0.02; done; echo second"
    result = await asyncio.wait_for(run_command(conn, command, host="old", sink=sink), 30)
    assert result.ok and seen == ["first", "second"]


async def test_exit_status_7_is_reported_as_7(hosts: HostConnections) -> None:
    result = await run_command(await hosts.connect("old"), "echo bye; exit 7", host="old")
    assert result.exit_status == 7
    assert not result.ok
    assert result.describe() == "failed with exit status 7"


async def test_pty_gives_a_terminal_and_merges_stderr(hosts: HostConnections) -> None:
    conn = await hosts.connect("old")
    command = "[ -t 1 ] && echo on-a-tty; echo to-stderr >&2"
    with_pty: list[SshEvent] = []
    await run_command(conn, command, host="old", sink=with_pty.append, pty=True)
    assert lines_of(with_pty, "stdout") == ["on-a-tty", "to-stderr"]
    assert lines_of(with_pty, "stderr") == []
    without: list[SshEvent] = []
    await run_command(conn, command, host="old", sink=without.append)
    assert lines_of(without, "stdout") == []
    assert lines_of(without, "stderr") == ["to-stderr"]


async def test_timeout_fails_the_run_and_stops_the_command(hosts: HostConnections, lab: LabSshHost, waits: Any) -> None:
    conn = await hosts.connect("old")
    with pytest.raises(CommandTimeoutError, match=r"timed out after 500ms"):
        await run_command(conn, "echo $$ > pid; exec sleep 60", host="old", timeout=0.5)
    pid = await waits.pid_in(lab.sandbox / "pid")
    assert await waits.gone(pid)


@pytest.mark.parametrize("pty", [False, True])
async def test_cancel_kills_the_remote_process(hosts: HostConnections, lab: LabSshHost, pty: bool, waits: Any) -> None:
    conn = await hosts.connect("old")
    task = asyncio.create_task(run_command(conn, "echo $$ > pid; sleep 60; echo never", host="old", pty=pty))
    pid = await waits.pid_in(lab.sandbox / "pid")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await waits.gone(pid)
    assert await waits.until(lambda: lab.running() == 0)


async def test_a_very_long_line_is_cut_with_a_marker(hosts: HostConnections) -> None:
    events: list[SshEvent] = []
    command = "head -c 100000 /dev/zero | tr '\\0' a; echo; echo next"
    await run_command(await hosts.connect("old"), command, host="old", sink=events.append, max_line=1000)
    first, second = lines_of(events, "stdout")
    assert first == "a" * 1000 + " … [line cut: 99000 more bytes]"
    assert second == "next"


async def test_an_unterminated_last_line_is_delivered(hosts: HostConnections) -> None:
    events: list[SshEvent] = []
    await run_command(await hosts.connect("old"), "printf 'no newline'", host="old", sink=events.append)
    assert lines_of(events, "stdout") == ["no newline"]


async def test_events_are_stamped_by_the_given_clock(hosts: HostConnections) -> None:
    class Frozen:
        def now(self) -> float:
            return 42.0

        def monotonic(self) -> float:
            return 1.0

    events: list[SshEvent] = []
    await run_command(await hosts.connect("old"), "echo hi", host="old", sink=events.append, clock=Frozen())
    assert [(e.timestamp, e.stream) for e in events if isinstance(e, OutputLines)] == [(42.0, "stdout")]


async def test_a_lost_connection_is_outcome_unknown_never_success(hosts: HostConnections, lab: LabSshHost) -> None:
    started = asyncio.Event()

    def sink(event: SshEvent) -> None:
        if isinstance(event, OutputLines) and "started" in event.lines:
            started.set()

    conn = await hosts.connect("old")
    task = asyncio.create_task(run_command(conn, "echo started; sleep 30", host="old", sink=sink))
    await asyncio.wait_for(started.wait(), 30)
    assert lab.drop_connections() == 1
    with pytest.raises(ConnectionLostError) as caught:
        await asyncio.wait_for(task, 30)
    assert str(caught.value) == "old: connection lost — outcome unknown (no exit status received)"
    # The pool notices and opens a fresh connection on the next use.
    again = await hosts.connect("old")
    assert again is not conn
    assert (await run_command(again, "true", host="old")).ok


async def test_one_connection_per_host_reused_even_on_concurrent_first_use(
    hosts: HostConnections, lab: LabSshHost
) -> None:
    conns = await asyncio.gather(*(hosts.connect("old") for _ in range(5)))
    assert all(c is conns[0] for c in conns)
    results = await asyncio.gather(*(run_command(conns[0], f"exit {i}", host="old") for i in range(4)))
    assert [r.exit_status for r in results] == [0, 1, 2, 3]
    assert await hosts.connect("old") is conns[0]
    assert lab.accepted == 1


async def test_commands_run_in_the_sandbox(hosts: HostConnections, lab: LabSshHost, tmp_path: Path) -> None:
    events: list[SshEvent] = []
    await run_command(await hosts.connect("old"), "pwd", host="old", sink=events.append)
    assert lines_of(events, "stdout") == [str(lab.sandbox)]


async def test_input_sent_at_once_reaches_the_command_with_its_end(hosts: HostConnections) -> None:
    """Data and end of file that arrive before the lab host has started the child are kept, not dropped."""
    conn = await hosts.connect("old")
    for _ in range(20):
        result = await asyncio.wait_for(conn.run("wc -c", input="x" * 100_000), 10)
        assert str(result.stdout).strip() == "100000"
