"""Output flood: `seq 1 N` streamed through the cockpit's runner vs OpenSSH's `ssh host seq 1 N > /dev/null`.

Both run against the same private sshd on a loopback port, in the same run, end to end (connect included,
as an operator's step would). The cockpit's side delivers every line to a sink that counts it.
Goal: cockpit throughput ≥ 0.5× OpenSSH's. Also reports the cockpit process's peak memory.

    python bench/ssh_flood.py [--lines N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from cockpit.lab.ssh_sshd import OpenSshServer
from cockpit.plan import Host
from cockpit.ssh import HostConnections, OutputLines, SshEvent, run_command


async def cockpit_round(server: OpenSshServer, lines: int, base: Path) -> tuple[float, float, int]:
    """(total seconds incl. connect, streaming seconds, lines seen)."""
    seen = 0

    def sink(event: SshEvent) -> None:
        nonlocal seen
        if isinstance(event, OutputLines):
            seen += len(event.lines)

    start = time.perf_counter()
    async with HostConnections({"box": Host.model_validate(server.plan_host())}, base_dir=base) as hosts:
        conn = await hosts.connect("box")
        streaming = time.perf_counter()
        result = await run_command(conn, f"seq 1 {lines}", host="box", sink=sink)
        end = time.perf_counter()
    assert result.ok, result
    return end - start, end - streaming, seen


def openssh_round(server: OpenSshServer, lines: int) -> float:
    start = time.perf_counter()
    subprocess.run(server.ssh_command(f"seq 1 {lines}"), stdout=subprocess.DEVNULL, check=True, timeout=300)
    return time.perf_counter() - start


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        server = OpenSshServer(base / "sshd")
        server.start()
        try:
            rss_before = peak_rss_mb()
            cockpit, streaming, openssh = [], [], []
            for _ in range(args.rounds):
                total, stream_only, seen = await cockpit_round(server, args.lines, base)
                assert seen == args.lines, f"saw {seen} lines, expected {args.lines}"
                cockpit.append(total)
                streaming.append(stream_only)
                openssh.append(openssh_round(server, args.lines))
            rss_after = peak_rss_mb()
            tracemalloc.start()
            await cockpit_round(server, args.lines, base)
            _, traced_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        finally:
            server.stop()
    best_cockpit, best_openssh = min(cockpit), min(openssh)
    print(f"lines per run:           {args.lines:,} ({args.rounds} rounds, best of each)")
    print(f"OpenSSH ssh > /dev/null: {best_openssh:.3f} s  ({args.lines / best_openssh:,.0f} lines/s)")
    print(f"cockpit run_command:     {best_cockpit:.3f} s  ({args.lines / best_cockpit:,.0f} lines/s)")
    print(f"  of which streaming:    {min(streaming):.3f} s  (after connect)")
    print(f"ratio cockpit/OpenSSH:   {best_openssh / best_cockpit:.2f}x  (goal >= 0.5x)")
    print(f"peak RSS of the process: {rss_after:.0f} MB (before the runs: {rss_before:.0f} MB)")
    print(f"peak Python allocations during one run (tracemalloc): {traced_peak / 1e6:.1f} MB")
    sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main())
