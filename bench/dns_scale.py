"""One polling round at hosting-company scale: 5,000 domains × 2 nameservers, 30 ms injected delay.

The plan is real: its domains come from a `domains_file` and one MX state (parking) has records of its own for
two domains, so the watcher classifies every answer by `plan.mx_states(domain)`. The two lab nameservers run in
child processes (as in dns_round.py; their CPU is not the watcher's). Measured in the same run:

* the watcher's round (`DnsWatcher.poll_round`: MX and SOA per pair, asked together; classification,
  history, snapshot) and the `cockpit watch --summary` line made from it, with the collector set up as
  `cockpit watch` sets it up (`cockpit.base.collector.settle`); its CPU split into user and system time,
  and the CPU the two nameservers spent meanwhile (they share this machine's cores with the watcher);
* the same watcher on 10 domains (the small plan every test uses);
* the floor of this machine: every question of the round sent on raw UDP sockets (as many in flight as the
  watcher may have, MX and SOA independently) and every answer received, nothing parsed, nothing
  classified — what a single Python process pays for the traffic alone;
* the network's floor: one round trip (MX and SOA together), 1 × delay.

    python bench/dns_scale.py [--domains 5000] [--delay 0.03] [--rounds 5] [--concurrency 2048]

With `--loss P` each nameserver drops that share of the questions at random (a lossy path) and the bench counts,
instead of refusing, the pairs that fail; `--tries N` sets how often a question is sent within the timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PER_SOCKET = 64

PLAN = """\
version: 1
name: Move a whole server
domains_file: domains.txt
nameservers: {nameservers}
dns: {{interval: 60s, timeout: 3s, concurrency: {concurrency}}}
mx:
  old: "10 mail.old-host.net."
  parking:
    default: "10 parked.new-host.net."
    per_domain: {{d1.example: "10 parked.legacy.example.", d2.example: "10 parked.legacy.example."}}
  new: "10 mail.new-host.net."
phases:
  - name: during
    steps:
      - wait_dns: {{mx: parking}}
"""


def start_servers(domains: int, delay: float, loss: float = 0.0) -> tuple[list[subprocess.Popen[str]], list[int]]:
    script = Path(__file__).with_name("dns_round.py")
    children = [
        subprocess.Popen(
            [
                sys.executable,
                str(script),
                "--serve",
                "--domains",
                str(domains),
                "--delay",
                str(delay),
                "--loss",
                str(loss),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    ports = []
    for child in children:
        assert child.stdout is not None
        ports.append(int(child.stdout.readline()))
    return children, ports


def stop_servers(children: list[subprocess.Popen[str]]) -> None:
    for child in children:
        if child.stdin is not None:
            child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()


def write_plan(folder: Path, domains: int, ports: list[int], concurrency: int) -> Path:
    (folder / "domains.txt").write_text("# the server's domains\n" + "".join(f"d{i}.example\n" for i in range(domains)))
    servers = "[" + ", ".join(f'"127.0.0.1:{port}"' for port in ports) + "]"
    path = folder / "plan.yaml"
    path.write_text(PLAN.format(nameservers=servers, concurrency=concurrency))
    return path


@dataclass
class Rounds:
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    users: list[float] = field(default_factory=list)
    systems: list[float] = field(default_factory=list)
    servers: list[float] = field(default_factory=list)
    """CPU seconds both nameservers spent during the round."""
    failed: list[int] = field(default_factory=list)
    """Pairs that failed, per round (only counted when the nameservers drop questions on purpose)."""
    line: str = ""


def child_cpu(pids: list[int]) -> float:
    """User + system seconds the processes spent so far (/proc/PID/stat)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


async def watcher_rounds(
    plan_path: Path, domains: int | None, rounds: int, servers: list[int], *, tries: int = 3, lossy: bool = False
) -> Rounds:
    """Wall and CPU seconds of `rounds` rounds after a cold one, and the summary line of the last."""
    from cockpit.base import collector
    from cockpit.commands.watch import summary_line
    from cockpit.dns.observation import Pair, Server
    from cockpit.dns.query import DirectQuerier
    from cockpit.dns.watcher import DnsWatcher
    from cockpit.plan import load_plan

    plan = load_plan(plan_path).plan
    names = plan.domains if domains is None else plan.domains[:domains]
    pairs = [Pair(d, Server(ns.address or "", ns.port)) for d in names for ns in plan.nameservers]
    querier = DirectQuerier(timeout=plan.dns.timeout, concurrency=plan.dns.concurrency, tries=tries)
    watcher = DnsWatcher(pairs, states=plan.mx_states, querier=querier)
    collector.settle()
    result = Rounds()
    try:
        for index in range(rounds + 1):
            served = child_cpu(servers)
            usage = resource.getrusage(resource.RUSAGE_SELF)
            wall, cpu = time.perf_counter(), time.process_time()
            snapshot = await watcher.poll_round()
            result.line = summary_line(snapshot, plan.mx)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            after = resource.getrusage(resource.RUSAGE_SELF)
            failed = snapshot.failures()
            if failed and not lossy:
                raise SystemExit(f"{len(failed)} pairs failed, e.g. {failed[0].observation.detail}")
            if index > 0:
                result.walls.append(wall)
                result.cpus.append(cpu)
                result.users.append(after.ru_utime - usage.ru_utime)
                result.systems.append(after.ru_stime - usage.ru_stime)
                result.servers.append(child_cpu(servers) - served)
                result.failed.append(len(failed))
    finally:
        await watcher.close()
    return result


async def raw_floor(ports: list[int], domains: int, rounds: int, concurrency: int) -> tuple[list[float], list[float]]:
    """Every question of a round (MX and SOA per pair) on raw sockets, as many in flight as the watcher may
    have; answers received, not read."""
    import dns.message

    loop = asyncio.get_running_loop()
    questions: list[tuple[int, bytes]] = []
    for i in range(domains):
        for rdtype in ("MX", "SOA"):
            query = dns.message.make_query(f"d{i}.example", rdtype, flags=0, use_edns=0, payload=1232)
            wire = query.to_wire()
            questions.extend((port, wire) for port in ports)
    walls: list[float] = []
    cpus: list[float] = []
    for index in range(rounds + 1):
        wall, cpu = time.perf_counter(), time.process_time()
        await _RawRound(loop, questions, concurrency).run()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if index > 0:
            walls.append(wall)
            cpus.append(cpu)
    return walls, cpus


class _RawRound:
    """Every question sent with at most `concurrency` in flight (64 per connected socket, like the watcher);
    each answer received lets the next question of its socket go. Answers are counted, never read."""

    def __init__(self, loop: asyncio.AbstractEventLoop, questions: list[tuple[int, bytes]], concurrency: int) -> None:
        self.loop = loop
        self.total = len(questions)
        self.received = 0
        self.done: asyncio.Future[None] = loop.create_future()
        by_port: dict[int, list[bytes]] = {}
        for port, wire in questions:
            by_port.setdefault(port, []).append(wire)
        per_port = max(1, concurrency // PER_SOCKET // len(by_port))
        self.queues = [(port, wires[i::per_port]) for port, wires in by_port.items() for i in range(per_port)]

    def _readable(self, sock: socket.socket, queue: list[bytes]) -> None:
        while True:
            try:
                sock.recv(65535)
            except BlockingIOError:
                return
            self.received += 1
            if queue:
                sock.send(queue.pop())
            elif self.received == self.total and not self.done.done():
                self.done.set_result(None)

    async def run(self) -> None:
        socks: list[socket.socket] = []
        try:
            for port, wires in self.queues:
                queue = list(reversed(wires))
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(sock)
                sock.setblocking(False)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
                sock.connect(("127.0.0.1", port))
                self.loop.add_reader(sock.fileno(), self._readable, sock, queue)
                for _ in range(min(PER_SOCKET, len(queue))):
                    sock.send(queue.pop())
            await asyncio.wait_for(self.done, 30)
        finally:
            for sock in socks:
                self.loop.remove_reader(sock.fileno())
                sock.close()


def lossy(args: argparse.Namespace) -> None:
    """Rounds against nameservers that drop `args.loss` of the questions: failed pairs and time per round."""
    children, ports = start_servers(args.domains, args.delay, args.loss)
    try:
        with tempfile.TemporaryDirectory() as folder:
            plan_path = write_plan(Path(folder), args.domains, ports, args.concurrency)
            pids = [child.pid for child in children]
            result = asyncio.run(watcher_rounds(plan_path, None, args.rounds, pids, tries=args.tries, lossy=True))
    finally:
        stop_servers(children)
    pairs = args.domains * len(ports)
    clean = sum(1 for failed in result.failed if failed == 0)
    print(
        f"DNS polling round with {args.loss:.2%} of the questions dropped: {pairs:,} pairs, {args.tries} tries "
        f"within the timeout, concurrency {args.concurrency}, {args.rounds} rounds after a cold one"
    )
    print(f"  failed pairs per round: {', '.join(str(failed) for failed in result.failed)}")
    print(f"  rounds with every pair answered: {clean} of {len(result.failed)}")
    walls = ", ".join(ms(wall) for wall in result.walls)
    print(f"  round times: {walls}")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--domains", type=int, default=5000)
    parser.add_argument("--delay", type=float, default=0.030)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=2048, help="the plan's dns.concurrency")
    parser.add_argument("--small", type=int, default=10, help="domains of the small baseline plan")
    parser.add_argument("--loss", type=float, default=0.0, help="share of questions the nameservers drop")
    parser.add_argument("--tries", type=int, default=3, help="times a question is sent within the timeout")
    args = parser.parse_args()
    if args.loss > 0:
        lossy(args)
        return
    children, ports = start_servers(args.domains, args.delay)
    try:
        with tempfile.TemporaryDirectory() as folder:
            plan_path = write_plan(Path(folder), args.domains, ports, args.concurrency)
            from cockpit.plan import load_plan

            started = time.perf_counter()
            load_plan(plan_path)
            loading = time.perf_counter() - started
            pids = [child.pid for child in children]
            large = asyncio.run(watcher_rounds(plan_path, None, args.rounds, pids))
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            small = asyncio.run(watcher_rounds(plan_path, args.small, args.rounds, pids))
        floor_walls, floor_cpus = asyncio.run(raw_floor(ports, args.domains, args.rounds, 2 * args.concurrency))
    finally:
        stop_servers(children)
    pairs = args.domains * len(ports)
    median = statistics.median
    wall, cpu = median(large.walls), median(large.cpus)
    floor, floor_cpu = median(floor_walls), median(floor_cpus)
    small_wall = median(small.walls)
    print(
        f"DNS polling round: {args.domains:,} domains × {len(ports)} nameservers = {pairs:,} pairs (MX and SOA "
        f"together each), injected delay {args.delay * 1000:.0f} ms, concurrency {args.concurrency}, "
        f"{args.rounds} rounds after a cold one"
    )
    print(f"  plan with a domains file of {args.domains:,} domains loaded and checked in {ms(loading)}")
    print(
        f"  watcher round: median {ms(wall)} (min {ms(min(large.walls))}, max {ms(max(large.walls))}); "
        f"CPU {ms(cpu)} per round ({cpu / pairs * 1e6:.0f} µs per pair: user {ms(median(large.users))}, "
        f"system {ms(median(large.systems))}); peak RSS {rss:.0f} MB"
    )
    print(f"  the two nameservers' CPU during a round (same cores): {ms(median(large.servers))}")
    print(f"  last summary: {large.line}")
    print(f"  goal ≤ 300 ms: ratio {wall / 0.3:.2f} ({'met' if wall <= 0.3 else 'NOT met'})")
    small_cpu = median(small.cpus)
    print(
        f"  baseline, {args.small} domains × {len(ports)}: median {ms(small_wall)} (CPU {ms(small_cpu)}); "
        f"the large round takes {wall / small_wall:.1f}× as long for {args.domains / args.small:,.0f}× the pairs"
    )
    print(
        f"  floor of this machine, {2 * pairs:,} questions on raw sockets (nothing parsed): median {ms(floor)}, "
        f"CPU {ms(floor_cpu)}; watcher / floor = {wall / floor:.2f}×"
    )
    network = args.delay
    print(
        f"  floor of the network, MX and SOA together = 1 × delay: {ms(network)}; "
        f"watcher / that = {wall / network:.1f}×"
    )


if __name__ == "__main__":
    main()
