"""Mail sync: 20,000 Maildir messages (~80 MB) from host A to host B through the cockpit, against
`ssh a tar -cf - DIR | ssh b tar -xf -` (OpenSSH and tar) in the same run; then a 1 % delta, and an inventory
of 100,000 messages.

Two private sshd instances on loopback ports stand in for the old and the new host. The cockpit's times are
end to end (connect, both inventories, copy, every message durable on B before it is renamed into place,
acknowledged) for a fresh destination; the tar pipe's is end to end too (tar writes without fsync). Before each
timed run the page cache's dirty data is flushed (`sync`), so no run pays for another's writes, nothing is
deleted between runs, and the order of the two alternates. It also prints what one SSH session costs here
(with and without starting python3): each host call of the cockpit pays that once.
Goals: full sync ≥ 0.8× the tar pipe's throughput; the 1 % delta ≤ 0.1× the full sync's time; the inventory's
messages per second and the cockpit process's peak RSS for 100,000 messages (≤ 150 MB).

    python bench/mail_sync.py [--messages N] [--size BYTES] [--rounds R] [--inventory N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cockpit.lab.ssh_sshd import OpenSshServer
from cockpit.mail import StoreSpec, SyncResult, inventory, sync
from cockpit.plan import Host
from cockpit.ssh import HostConnections

FOLDERS = ("", "", ".Sent", ".Archive.2024")


def make_maildir(root: Path, count: int, size: int, start: int = 0, seed: int = 1) -> int:
    """`count` distinct messages of about `size` bytes over the inbox and two folders; returns the bytes."""
    rng = random.Random(seed + start)
    total = 0
    for folder in set(FOLDERS):
        for sub in ("cur", "new", "tmp"):
            (root / folder / sub).mkdir(parents=True, exist_ok=True)
    for i in range(start, start + count):
        head = f"From: s{i}@example.com\nTo: u@example.com\nSubject: message {i}\nMessage-ID: <m{i}@example.com>\n\n"
        body = rng.randbytes(max(size - len(head), 2) // 2).hex().encode() + b"\n"
        data = head.encode() + body
        flags = ("S", "RS", "", "FS")[i % 4]
        sub = "cur" if flags else "new"
        name = f"{1_700_000_000 + i}.M{i}P1.old" + (f":2,{flags}" if flags else "")
        (root / FOLDERS[i % len(FOLDERS)] / sub / name).write_bytes(data)
        total += len(data)
    return total


def plan_hosts(old: OpenSshServer, new: OpenSshServer) -> dict[str, Host]:
    return {"old": Host.model_validate(old.plan_host()), "new": Host.model_validate(new.plan_host())}


async def cockpit_sync(
    old: OpenSshServer, new: OpenSshServer, base: Path, source: StoreSpec, dest: StoreSpec, previous: SyncResult | None
) -> tuple[float, SyncResult]:
    os.sync()
    start = time.perf_counter()
    async with HostConnections(plan_hosts(old, new), base_dir=base) as hosts:
        result = await sync(hosts, source, dest, previous=previous.state if previous else None)
    return time.perf_counter() - start, result


def session_costs(server: OpenSshServer) -> tuple[float, float]:
    """What an SSH session alone costs on this machine, and one that starts python3: every host call pays it."""
    found = []
    for remote in ("true", "python3 -c pass"):
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run(server.ssh_command(remote), check=True, timeout=60)
            runs.append(time.perf_counter() - start)
        found.append(min(runs))
    return found[0], found[1]


def tar_pipe(old: OpenSshServer, new: OpenSshServer, src: Path, dst: Path) -> float:
    dst.mkdir(parents=True)
    os.sync()
    start = time.perf_counter()
    reader = subprocess.Popen(old.ssh_command(f"tar -C {src} -cf - ."), stdout=subprocess.PIPE)
    writer = subprocess.run(new.ssh_command(f"tar -C {dst} -xf -"), stdin=reader.stdout, check=True, timeout=600)
    assert reader.stdout is not None
    reader.stdout.close()
    assert reader.wait(timeout=60) == 0 and writer.returncode == 0
    return time.perf_counter() - start


def peak_rss_kib() -> int:
    """This process's peak RSS: VmHWM (ru_maxrss would count the parent's size at the fork before exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def inventory_child(config: dict[str, object]) -> None:
    """Runs in a process of its own, so that its peak RSS is the inventory's alone."""
    before = peak_rss_kib()
    hosts = {"old": Host.model_validate(config["host"])}
    spec = StoreSpec("old", "maildir", str(config["path"]))
    start = time.perf_counter()
    async with HostConnections(hosts, base_dir=Path(str(config["base"]))) as pool:
        found = await inventory(pool, spec)
    seconds = time.perf_counter() - start
    peak = peak_rss_kib()
    print(
        json.dumps(
            {
                "messages": found.count,
                "bytes": found.bytes,
                "seconds": seconds,
                "rss_before_kib": before,
                "rss_peak_kib": peak,
            }
        )
    )


def measure_inventory(old: OpenSshServer, base: Path, count: int) -> dict[str, float]:
    root = base / "big" / "dora" / "Maildir"
    make_maildir(root, count, 1000, seed=9)
    os.sync()
    config = {"host": old.plan_host(), "path": f"{base}/big/{{user}}/Maildir", "base": str(base)}
    command = [sys.executable, __file__, "--inventory-child", json.dumps(config)]
    done = subprocess.run(command, capture_output=True, check=True, timeout=900)
    figures: dict[str, float] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    shutil.rmtree(base / "big")
    return figures


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--size", type=int, default=4_000, help="bytes per message, about")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--inventory", type=int, default=100_000, help="messages in the inventory run (0: skip)")
    parser.add_argument("--inventory-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inventory_child:
        await inventory_child(json.loads(args.inventory_child))
        return
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        old, new = OpenSshServer(base / "sshd-old"), OpenSshServer(base / "sshd-new")
        old.start()
        new.start()
        try:
            src = base / "old" / "carol" / "Maildir"
            size = make_maildir(src, args.messages, args.size)
            source = StoreSpec("old", "maildir", f"{base}/old/{{user}}/Maildir")
            fulls, tars, deltas, delta_counts = [], [], [], []
            extra = max(args.messages // 100, 1)
            for round_ in range(args.rounds):
                # Nothing is deleted between timed runs (deleting 20,000 files costs the next run); the order
                # of the cockpit and tar alternates.
                if round_ % 2:
                    tars.append(tar_pipe(old, new, src, base / f"tar-{round_}"))
                dest = StoreSpec("new", "maildir", f"{base}/new-{round_}/{{user}}/Maildir")
                seconds, first = await cockpit_sync(old, new, base, source, dest, None)
                assert first.messages_copied == args.messages + round_ * extra, first.summary()
                fulls.append(seconds)
                if not round_ % 2:
                    tars.append(tar_pipe(old, new, src, base / f"tar-{round_}"))
                make_maildir(src, extra, args.size, start=args.messages + round_ * extra)
                seconds, second = await cockpit_sync(old, new, base, source, dest, first)
                assert second.messages_copied == extra, second.summary()
                deltas.append(seconds)
                delta_counts.append(second.messages_copied)
            startup = session_costs(old)
            figures = measure_inventory(old, base, args.inventory) if args.inventory else None
        finally:
            old.stop()
            new.stop()
    mb = size / 1e6
    best_full, best_tar = min(fulls), min(tars)
    print(f"store:                     {args.messages:,} messages, {mb:.0f} MB ({args.rounds} rounds, best of each)")
    print(f"ssh a tar | ssh b tar:     {best_tar:.2f} s  ({mb / best_tar:,.1f} MB/s)   all: {fmt(tars)}")
    print(f"cockpit full sync:         {best_full:.2f} s  ({mb / best_full:,.1f} MB/s)   all: {fmt(fulls)}")
    print(f"ratio cockpit/tar:         {best_tar / best_full:.2f}x  (goal >= 0.8x)")
    print(f"delta of {delta_counts[0]:,} new messages:  {min(deltas):.2f} s   all: {fmt(deltas)}")
    print(f"ratio delta/full:          {min(deltas) / best_full:.3f}  (goal <= 0.1)")
    if figures:
        rate = figures["messages"] / figures["seconds"]
        print(
            f"inventory of {figures['messages']:,.0f} messages: {figures['seconds']:.2f} s ({rate:,.0f} messages/s), "
            f"peak RSS {figures['rss_peak_kib'] / 1024:.0f} MB (at start {figures['rss_before_kib'] / 1024:.0f} MB;"
            " goal <= 150 MB)"
        )
    print(f"one ssh session (OpenSSH client, `true`): {startup[0]:.2f} s; starting python3 in one: {startup[1]:.2f} s")
    print(f"peak RSS of this process:  {peak_rss_kib() / 1024:.0f} MB")


def fmt(values: list[float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values)


if __name__ == "__main__":
    asyncio.run(main())
