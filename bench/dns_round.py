"""One DNS polling round: 200 domains × 2 nameservers with a 30 ms injected delay, vs a serial dig loop.

The two lab nameservers run in child processes of their own (their CPU is not the watcher's); the
watcher's side is the real DirectQuerier (MX and SOA together, per pair). The seed's method — one
`dig @server -p PORT MX domain` process after another — is timed on a subset of the pairs and
extrapolated to the whole round, as the output says.

    python bench/dns_round.py [--domains 200] [--delay 0.03] [--rounds 10] [--dig-sample 20]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import time


def serve(domains: int, delay: float, loss: float = 0.0) -> None:
    """Child process: one lab nameserver with the zones, its port on stdout, until stdin closes."""
    from cockpit.lab.dns_zone import LabZone
    from cockpit.lab.nameserver import LabNameserver

    async def main() -> None:
        zones = [LabZone.build(f"d{i}.example", mx=[(10, "mail.old-host.net.")]) for i in range(domains)]
        server = LabNameserver(zones, delay=delay, loss=loss)
        await server.start()
        print(server.port, flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)

    asyncio.run(main())


async def measure(
    ports: list[int], domains: int, rounds: int, concurrency: int
) -> tuple[list[float], list[float], float]:
    from cockpit.dns.observation import Pair, Server, Status
    from cockpit.dns.query import DirectQuerier

    pairs = [Pair(f"d{i}.example", Server("127.0.0.1", port)) for i in range(domains) for port in ports]
    querier = DirectQuerier(timeout=2.0, concurrency=concurrency)
    walls: list[float] = []
    cpus: list[float] = []
    first = 0.0
    try:
        for index in range(rounds + 1):
            querier.rotate()
            wall, cpu = time.perf_counter(), time.process_time()
            observations = await querier.observe_all(pairs)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            bad = [o for o in observations if o.status is not Status.OK or o.serial is None]
            if bad:
                raise SystemExit(f"round {index}: {len(bad)} pairs failed, e.g. {bad[0].status} {bad[0].detail}")
            if index == 0:
                first = wall
                continue
            walls.append(wall)
            cpus.append(cpu)
    finally:
        await querier.close()
    return walls, cpus, first


def dig_loop(ports: list[int], sample: int) -> float:
    """Seconds for `sample` dig processes run one after another (the seed's shell loop)."""
    dig = shutil.which("dig")
    if dig is None:
        raise SystemExit("dig is not installed (bind9-dnsutils); it is the baseline of this benchmark")
    started = time.perf_counter()
    for i in range(sample):
        port = ports[i % len(ports)]
        out = subprocess.run(
            [dig, "@127.0.0.1", "-p", str(port), "MX", f"d{i // len(ports)}.example"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        if "mail.old-host.net." not in out:
            raise SystemExit(f"dig got no MX answer:\n{out}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--domains", type=int, default=200)
    parser.add_argument("--delay", type=float, default=0.030)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=400, help="the plan's dns.concurrency (max 4096)")
    parser.add_argument("--dig-sample", type=int, default=20)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--loss", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.domains, args.delay, args.loss)
        return
    children = [
        subprocess.Popen(
            [sys.executable, __file__, "--serve", "--domains", str(args.domains), "--delay", str(args.delay)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        ports = []
        for child in children:
            assert child.stdout is not None
            ports.append(int(child.stdout.readline()))
        walls, cpus, first = asyncio.run(measure(ports, args.domains, args.rounds, args.concurrency))
        dig_seconds = dig_loop(ports, args.dig_sample)
    finally:
        for child in children:
            if child.stdin is not None:
                child.stdin.close()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
    pairs = args.domains * len(ports)
    median = statistics.median(walls)
    goal = 2 * args.delay + 0.020
    dig_round = dig_seconds / args.dig_sample * pairs
    print(
        f"DNS polling round: {args.domains} domains × {len(ports)} nameservers = {pairs} pairs "
        f"(MX + SOA each), injected delay {args.delay * 1000:.0f} ms, concurrency {args.concurrency}"
    )
    print(
        f"  round time: median {median * 1000:.1f} ms, min {min(walls) * 1000:.1f}, max {max(walls) * 1000:.1f} "
        f"over {len(walls)} rounds (first, cold round: {first * 1000:.1f} ms)"
    )
    print(
        f"  goal ≤ 2×delay + 20 ms = {goal * 1000:.0f} ms: ratio {median / goal:.2f} "
        f"({'met' if median <= goal else 'NOT met'})"
    )
    print(f"  CPU per round (watcher process): median {statistics.median(cpus) * 1000:.1f} ms")
    print(
        f"  serial dig loop: {args.dig_sample} dig processes took {dig_seconds:.2f} s "
        f"({dig_seconds / args.dig_sample * 1000:.1f} ms each, MX only); extrapolated to {pairs} pairs: "
        f"{dig_round:.1f} s"
    )
    speedup = dig_round / median
    print(f"  speed-up vs the dig loop: {speedup:.0f}× (goal ≥ 50×: {'met' if speedup >= 50 else 'NOT met'})")


if __name__ == "__main__":
    main()
