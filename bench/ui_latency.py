"""Keypress-to-screen latency of the cockpit while a job floods the output pane, and the app's peak memory.

A task publishes OutputLine events at full speed (2 million by default, in chunks between which it yields,
as a stream reader does); meanwhile a key (j/k, moving the checklist selection) is posted every 50 ms the way
the terminal driver posts it, and the time until the selection changed and the screen was refreshed is
recorded. The app runs headless (rendering happens, output is discarded). Goal: p95 ≤ 100 ms, ≤ 250 MB.

    python bench/ui_latency.py [--lines N] [--chunk N]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from textual import events
from textual.pilot import Pilot

from cockpit.engine.clock import SystemClock
from cockpit.engine.events import EventBus, OutputLine
from cockpit.engine.run import PlanRun, RunOptions
from cockpit.engine.services import RunServices
from cockpit.plan import parse_plan
from cockpit.ui.app import CockpitApp
from cockpit.ui.step_list import StepList

PLAN = """\
version: 1
name: UI latency bench
domains: [example.com]
mx: {old: mail.old.example.net., new: mail.new.example.net.}
phases:
  - name: before
    steps:
""" + "".join(f"      - confirm: Step number {n}\n        id: step-{n}\n" for n in range(8))

KEY_EVERY = 0.05


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def bench(lines: int, chunk: int) -> dict[str, float]:
    plan = parse_plan(PLAN, "bench.yaml")
    clock = SystemClock()
    bus = EventBus()
    base = Path(tempfile.gettempdir())
    services = RunServices(plan, base, clock, bus, watch_dns=False)  # the nameservers are not what is measured
    run = PlanRun(plan, plan_sha256="0" * 64, base_dir=base, clock=clock, bus=bus, services=services,
                  options=RunOptions())  # fmt: skip
    app = CockpitApp(run, bus, clock, services)
    latencies: list[float] = []
    flood_seconds = 0.0

    async def flood() -> None:
        nonlocal flood_seconds
        started = time.perf_counter()
        publish = bus.publish
        for start in range(0, lines, chunk):
            now = time.time()
            for number in range(start, min(start + chunk, lines)):
                stream = "stderr" if number % 97 == 0 else "stdout"
                publish(
                    OutputLine(now, "step-0", "old", stream, f"{number:>9} mailbox/user{number % 5000}/cur: copied")
                )
            await asyncio.sleep(0)
        flood_seconds = time.perf_counter() - started

    async def drive(pilot: Pilot[Any]) -> None:
        while run.prompt is None:
            await asyncio.sleep(0.01)
        await pilot.pause()
        steps = app.screen.query_one(StepList)
        flooding = asyncio.ensure_future(flood())
        down = True
        while not flooding.done():
            await asyncio.sleep(KEY_EVERY)
            before = steps.highlighted
            key = "j" if down else "k"
            started = time.perf_counter()
            app.post_message(events.Key(key, key))
            while steps.highlighted == before and not flooding.done():
                await asyncio.sleep(0.0005)
            refreshed = asyncio.Event()
            app.call_after_refresh(refreshed.set)
            await refreshed.wait()
            latencies.append(time.perf_counter() - started)
            index = steps.highlighted or 0
            down = (down and index < steps.option_count - 1) or (not down and index <= 1)
        await flooding
        app.exit(0)

    await app.run_async(headless=True, size=(120, 40), auto_pilot=drive)
    run.stop()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "lines": float(lines),
        "flood_seconds": flood_seconds,
        "keys": float(len(latencies)),
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
        "max_ms": max(latencies) * 1000,
        "peak_mb": peak_mb,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--chunk", type=int, default=1000, help="lines published between two yields")
    args = parser.parse_args()
    result = asyncio.run(bench(args.lines, args.chunk))
    print(f"lines published        {int(result['lines']):,} in {result['flood_seconds']:.1f} s "
          f"({result['lines'] / max(result['flood_seconds'], 1e-9):,.0f} lines/s)")  # fmt: skip
    print(f"keypresses measured    {int(result['keys'])}")
    print(f"latency p50 / p95 / max  {result['p50_ms']:.1f} / {result['p95_ms']:.1f} / {result['max_ms']:.1f} ms")
    print(f"peak memory (RSS)      {result['peak_mb']:.0f} MB")
    ok = result["p95_ms"] <= 100 and result["peak_mb"] <= 250
    print("goal p95 ≤ 100 ms, memory ≤ 250 MB:", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
