"""Transfer: a file from host A to host B through the cockpit vs `ssh a cat f | ssh b 'cat > f'` (OpenSSH).

Two private sshd instances on loopback ports stand in for A and B, in the same run. The cockpit's time is
end to end: connect, probe, copy, SHA-256 of the written file on B, rename. Goal: cockpit throughput ≥ 0.7× OpenSSH's.
Also reports the cockpit's peak memory (the copy is flow-controlled, so it stays flat whatever the size).

    python bench/transfer.py [--mib N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path

from cockpit.lab.ssh_sshd import OpenSshServer
from cockpit.plan import Host, HostPath
from cockpit.ssh import HostConnections, SshEvent, TransferProgress, transfer


def make_file(path: Path, mib: int) -> None:
    block = os.urandom(1024 * 1024)
    with path.open("wb") as out:
        for i in range(mib):
            out.write(block[i % 251 :] + block[: i % 251])


async def cockpit_round(a: OpenSshServer, b: OpenSshServer, src: Path, dst: Path, base: Path) -> tuple[float, float]:
    """(end-to-end seconds, copy-phase bytes per second)."""
    last: list[TransferProgress] = []

    def sink(event: SshEvent) -> None:
        if isinstance(event, TransferProgress):
            last[:] = [event]

    plan_hosts = {"a": Host.model_validate(a.plan_host()), "b": Host.model_validate(b.plan_host())}
    start = time.perf_counter()
    async with HostConnections(plan_hosts, base_dir=base) as hosts:
        await transfer(hosts, HostPath("a", str(src)), HostPath("b", str(dst)), sink=sink)
    total = time.perf_counter() - start
    return total, last[-1].rate if last else 0.0


def openssh_round(a: OpenSshServer, b: OpenSshServer, src: Path, dst: Path) -> float:
    start = time.perf_counter()
    reader = subprocess.Popen(a.ssh_command(f"cat {src}"), stdout=subprocess.PIPE)
    writer = subprocess.run(b.ssh_command(f"cat > {dst}"), stdin=reader.stdout, check=True, timeout=600)
    assert reader.stdout is not None
    reader.stdout.close()
    assert reader.wait(timeout=60) == 0 and writer.returncode == 0
    return time.perf_counter() - start


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    size = args.mib * 1024 * 1024
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        a, b = OpenSshServer(base / "sshd-a"), OpenSshServer(base / "sshd-b")
        a.start()
        b.start()
        try:
            src = base / "source.bin"
            make_file(src, args.mib)
            cockpit, rates, openssh = [], [], []
            for round_ in range(args.rounds):
                dst = base / f"cockpit-{round_}.bin"
                total, rate = await cockpit_round(a, b, src, dst, base)
                assert dst.stat().st_size == size
                dst.unlink()
                cockpit.append(total)
                rates.append(rate)
                dst = base / f"openssh-{round_}.bin"
                openssh.append(openssh_round(a, b, src, dst))
                assert dst.stat().st_size == size
                dst.unlink()
        finally:
            a.stop()
            b.stop()
    mb = size / 1e6
    best_cockpit, best_openssh = min(cockpit), min(openssh)
    print(f"size:                     {args.mib} MiB ({args.rounds} rounds, best of each)")
    print(f"OpenSSH ssh a | ssh b:    {best_openssh:.2f} s  ({mb / best_openssh:,.0f} MB/s)")
    print(f"cockpit transfer:         {best_cockpit:.2f} s  ({mb / best_cockpit:,.0f} MB/s, verified on B)")
    print(f"  copy phase alone:       {max(rates) / 1e6:,.0f} MB/s")
    print(f"ratio cockpit/OpenSSH:    {best_openssh / best_cockpit:.2f}x  (goal >= 0.7x)")
    print(f"peak RSS of the process:  {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    asyncio.run(main())
