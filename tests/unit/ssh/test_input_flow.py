"""Input larger than a pipe, ended at once, reaches a lab host's command whole: the lab host pauses reading
while the command's stdin is full, and resumes without losing what arrives with the end of file."""

from __future__ import annotations

import asyncio
import hashlib

from cockpit.ssh import HostConnections

SLOW_READER = (
    "python3 -c 'import hashlib,sys,time\n"
    "h=hashlib.sha256()\n"
    "while True:\n"
    " b=sys.stdin.buffer.read1(16384)\n"
    " if not b: break\n"
    " h.update(b); time.sleep(0.0005)\n"
    "print(h.hexdigest())'"
)


async def test_a_stream_ended_while_the_pipe_is_full_arrives_whole(hosts: HostConnections) -> None:
    conn = await hosts.connect("old")
    for round_ in range(8):
        data = bytes([round_]) * 3_000_000 + b"end"
        result = await asyncio.wait_for(conn.run(SLOW_READER, input=data, encoding=None), 60)
        assert result.exit_status == 0, result.stderr
        assert isinstance(result.stdout, bytes)
        assert result.stdout.decode().strip() == hashlib.sha256(data).hexdigest(), f"round {round_}"
