"""The full screen at hosting-company scale: 5,000 domains × 2 nameservers (10,000 live pairs) polled every 2 s.

Two lab nameservers serve the domains' zones from child processes (30 ms injected delay, so their CPU is not
the screen's). The cockpit app runs headless in this process (rendering happens, output is discarded) with the
plan's real run and DNS watcher. Measured:

* first frame: from creating the app until the screen was composed and drawn once, and until the first
  round's answers were on it;
* keypress latency while the rounds run: `j`/`k` posted every 50 ms (as the terminal driver posts keys), the
  time until the checklist selection moved and the screen was refreshed; halfway through, the first
  nameserver moves every zone's MX to parking and the second three seconds later (10,000 flips);
* peak memory (RSS) of the process, and the size of the run's journal (subscribed first, as `cockpit run`
  does: what every flip, TTL and round summary of the run costs on disk).

The same is measured on 10 domains in the same run (the baseline: what the screen costs when DNS costs
nothing). Goals: first frame ≤ 1.5 s, keypress p95 ≤ 100 ms, RSS ≤ 300 MB.

    python bench/ui_scale.py [--domains 5000] [--seconds 20] [--delay 0.03]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

KEY_EVERY = 0.05
PLAN = """\
version: 1
name: Move a whole server
domains_file: domains.txt
nameservers: {nameservers}
dns: {{interval: 2s, timeout: 3s, concurrency: 1024}}
mx:
  old: "10 mail.old-host.net."
  parking: "10 parked.new-host.net."
  new: "10 mail.new-host.net."
phases:
  - name: during
    steps:
      - wait_dns: {{mx: parking}}
        id: parking-everywhere
      - confirm: Nothing after this
        id: end
"""


def serve(domains: int, delay: float) -> None:
    """Child: one lab nameserver with the zones; a line `parking` on stdin moves every zone's MX there."""
    from cockpit.lab.dns_zone import LabZone
    from cockpit.lab.nameserver import LabNameserver

    async def main() -> None:
        zones = [LabZone.build(f"d{i}.example", mx=[(10, "mail.old-host.net.")], mx_ttl=60) for i in range(domains)]
        server = LabNameserver(zones, delay=delay)
        await server.start()
        print(server.port, flush=True)
        loop = asyncio.get_running_loop()
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            if line.strip() == "parking":
                for zone in zones:
                    server.set_mx(zone.origin.to_text(), [(10, "parked.new-host.net.")], 60)

    asyncio.run(main())


def start_servers(domains: int, delay: float) -> tuple[list[subprocess.Popen[str]], list[int]]:
    children = [
        subprocess.Popen(
            [sys.executable, __file__, "--serve", "--domains", str(domains), "--delay", str(delay)],
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


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def bench(domains: int, seconds: float, delay: float) -> dict[str, float]:
    from textual import events
    from textual.pilot import Pilot

    from cockpit.base.clock import SystemClock
    from cockpit.engine.events import EventBus
    from cockpit.engine.journal import JournalWriter
    from cockpit.engine.options import RunOptions
    from cockpit.engine.run import PlanRun
    from cockpit.engine.services import RunServices
    from cockpit.plan import load_plan
    from cockpit.ui.app import CockpitApp
    from cockpit.ui.panes.step_list import StepList

    children, ports = start_servers(domains, delay)
    folder = Path(tempfile.mkdtemp())
    (folder / "domains.txt").write_text("".join(f"d{i}.example\n" for i in range(domains)))
    servers = "[" + ", ".join(f'"127.0.0.1:{port}"' for port in ports) + "]"
    (folder / "plan.yaml").write_text(PLAN.format(nameservers=servers))
    plan = load_plan(folder / "plan.yaml").plan
    clock = SystemClock()
    bus = EventBus()
    services = RunServices(plan, folder, clock, bus, verify_hosts_first=False)
    run = PlanRun(plan, plan_sha256="0" * 64, base_dir=folder, clock=clock, bus=bus, services=services,
                  options=RunOptions())  # fmt: skip
    journal = folder / "plan.yaml.journal"
    writer = JournalWriter(journal)
    bus.subscribe(writer, first=True)  # as cockpit run does: its cost counts, and its size is reported
    result: dict[str, float] = {}
    latencies: list[float] = []
    started = time.perf_counter()
    app = CockpitApp(run)

    async def drive(pilot: Pilot[Any]) -> None:
        drawn = asyncio.Event()
        app.call_after_refresh(drawn.set)
        await drawn.wait()
        result["first_frame"] = time.perf_counter() - started
        print(f"first frame {result['first_frame']:.2f}", file=sys.stderr, flush=True)
        pane = app.screen.query_one("#nameservers")
        while getattr(pane, "round", None) is None:
            await asyncio.sleep(0.01)
        answered = asyncio.Event()
        app.call_after_refresh(answered.set)
        await answered.wait()
        result["first_answers"] = time.perf_counter() - started
        print(f"first answers {result['first_answers']:.2f}", file=sys.stderr, flush=True)
        steps = app.screen.query_one(StepList)
        down, flipped = True, 0
        begin = time.perf_counter()
        while time.perf_counter() - begin < seconds:
            elapsed = time.perf_counter() - begin
            if flipped < 2 and elapsed > seconds / 2 + 3 * flipped:
                stdin = children[flipped].stdin
                assert stdin is not None
                stdin.write("parking\n")
                stdin.flush()
                flipped += 1
            await asyncio.sleep(KEY_EVERY)
            before = steps.highlighted
            key = "j" if down else "k"
            pressed = time.perf_counter()
            app.post_message(events.Key(key, key))
            while steps.highlighted == before:
                await asyncio.sleep(0.0005)
            refreshed = asyncio.Event()
            app.call_after_refresh(refreshed.set)
            await refreshed.wait()
            latencies.append(time.perf_counter() - pressed)
            down = not down
        result["rounds"] = float(getattr(pane, "round", 0) or 0)
        app.exit(0)

    try:
        await app.run_async(headless=True, size=(120, 40), auto_pilot=drive)
    finally:
        run.stop()
        await services.close()
        writer.close()
        for child in children:
            if child.stdin is not None:
                child.stdin.close()
            child.wait(timeout=10)
    result |= {
        "keys": float(len(latencies)),
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
        "max_ms": max(latencies) * 1000,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "journal_mb": journal.stat().st_size / 1e6,
    }
    return result


def measure(domains: int, seconds: float, delay: float) -> dict[str, float]:
    """One measurement in a process of its own (so the peak memory is this plan's)."""
    out = subprocess.run(
        [sys.executable, __file__, "--one", "--domains", str(domains), "--seconds", str(seconds),
         "--delay", str(delay)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return {key: float(value) for key, value in (line.split("=") for line in out.split())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--delay", type=float, default=0.03)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.domains, args.delay)
        return
    if args.one:
        result = asyncio.run(bench(args.domains, args.seconds, args.delay))
        print(" ".join(f"{key}={value}" for key, value in result.items()))
        return
    small = measure(10, args.seconds, args.delay)
    large = measure(args.domains, args.seconds, args.delay)
    print(f"{'':24}{'10 domains':>14}{f'{args.domains:,} domains':>16}{'ratio':>8}")
    rows = [
        ("first frame (s)", "first_frame", "{:.2f}"),
        ("first answers shown (s)", "first_answers", "{:.2f}"),
        ("keys measured", "keys", "{:.0f}"),
        ("key latency p50 (ms)", "p50_ms", "{:.1f}"),
        ("key latency p95 (ms)", "p95_ms", "{:.1f}"),
        ("key latency max (ms)", "max_ms", "{:.1f}"),
        ("rounds shown", "rounds", "{:.0f}"),
        ("peak memory (MB)", "peak_mb", "{:.0f}"),
        ("journal (MB)", "journal_mb", "{:.1f}"),
    ]
    for label, key, shape in rows:
        ratio = large[key] / small[key] if small[key] else float("nan")
        print(f"{label:24}{shape.format(small[key]):>14}{shape.format(large[key]):>16}{ratio:>8.2f}")
    ok = large["first_frame"] <= 1.5 and large["p95_ms"] <= 100 and large["peak_mb"] <= 300
    print("goal first frame ≤ 1.5 s, key p95 ≤ 100 ms, memory ≤ 300 MB:", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
