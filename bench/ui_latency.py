"""Keypress-to-screen latency of the cockpit while a job floods the output pane, and the app's peak memory.

A task publishes OutputLine events at full speed (2 million by default, in chunks between which it yields,
as a stream reader does); meanwhile a key (j/k, moving the checklist selection) is posted every 50 ms the way
the terminal driver posts it, and the time until the selection changed and the screen was refreshed is
recorded. The app runs headless (rendering happens, output is discarded). Goal: p95 ≤ 100 ms, ≤ 250 MB.
Afterwards the output pane must show the flood's last lines, none missing from the bounded history's tail,
and still follow the end; how far the shown output lagged behind the flood while it ran is reported.

    python bench/ui_latency.py [--lines N] [--chunk N] [--journal]

`--journal` subscribes a journal ahead of the screen, as `cockpit run` does, so its cost per line counts too.
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

from cockpit.base.clock import SystemClock
from cockpit.engine.events import EventBus, OutputLine
from cockpit.engine.journal import JournalWriter
from cockpit.engine.options import RunOptions
from cockpit.engine.run import PlanRun
from cockpit.engine.services import RunServices
from cockpit.plan import parse_plan
from cockpit.ui.app import CockpitApp
from cockpit.ui.panes.output_pane import OutputPane
from cockpit.ui.panes.step_list import StepList

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
TAIL_WAIT = 2.0


def line_text(number: int) -> str:
    return f"{number:>9} mailbox/user{number % 5000}/cur: copied"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def bench(lines: int, chunk: int, *, journal: bool = False) -> dict[str, float]:
    plan = parse_plan(PLAN, "bench.yaml")
    clock = SystemClock()
    bus = EventBus()
    base = Path(tempfile.gettempdir())
    services = RunServices(plan, base, clock, bus, watch_dns=False, verify_hosts_first=False)  # not what is measured
    run = PlanRun(plan, plan_sha256="0" * 64, base_dir=base, clock=clock, bus=bus, services=services,
                  options=RunOptions())  # fmt: skip
    if journal:
        bus.subscribe(JournalWriter(Path(tempfile.mkdtemp()) / "journal.jsonl"), first=True)
    app = CockpitApp(run)
    latencies: list[float] = []
    flood_seconds = 0.0
    tail: dict[str, float] = {}
    published = 0
    lags: list[int] = []

    async def flood() -> None:
        nonlocal flood_seconds, published
        started = time.perf_counter()
        publish = bus.publish
        for start in range(0, lines, chunk):
            now = time.time()
            for number in range(start, min(start + chunk, lines)):
                stream = "stderr" if number % 97 == 0 else "stdout"
                publish(OutputLine(now, "step-0", "old", stream, line_text(number)))
            published = min(start + chunk, lines)
            await asyncio.sleep(0)
        flood_seconds = time.perf_counter() - started

    async def drive(pilot: Pilot[Any]) -> None:
        while run.prompt is None:
            await asyncio.sleep(0.01)
        await pilot.pause()
        steps = app.screen.query_one(StepList)
        log = app.screen.query_one(OutputPane).log_view
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
            if log.view and log.view[-1].stream != "separator":
                lags.append(published - 1 - int(log.view[-1].text.split()[0]))
            index = steps.highlighted or 0
            down = (down and index < steps.option_count - 1) or (not down and index <= 1)
        await flooding
        tail.update(await check_tail(app, lines))
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
        "max_lag_lines": float(max(lags, default=0)),
        **tail,
    }


async def check_tail(app: CockpitApp, lines: int) -> dict[str, float]:
    """Once the next repaint took the last lines: are the newest kept lines exactly the flood's last ones, in
    order, and does the pane still follow the end?"""
    pane = app.screen.query_one(OutputPane)
    log = pane.log_view
    deadline = time.perf_counter() + TAIL_WAIT
    while time.perf_counter() < deadline and not (log.view and log.view[-1].text == line_text(lines - 1)):
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)  # let the repaint reach the screen
    shown = [line.text for line in log.view if line.stream != "separator"]
    expected = [line_text(number) for number in range(lines - len(shown), lines)]
    return {
        "kept": float(len(shown)),
        "tail_intact": float(shown == expected),
        "following": float(log.following and log.is_vertical_scroll_end),
        "last_shown": float(log.scroll_offset.y + log.scrollable_content_region.height >= len(log.view)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--chunk", type=int, default=1000, help="lines published between two yields")
    parser.add_argument("--journal", action="store_true", help="journal the run, as cockpit run does")
    args = parser.parse_args()
    result = asyncio.run(bench(args.lines, args.chunk, journal=args.journal))
    print(f"lines published        {int(result['lines']):,} in {result['flood_seconds']:.1f} s "
          f"({result['lines'] / max(result['flood_seconds'], 1e-9):,.0f} lines/s)")  # fmt: skip
    print(f"keypresses measured    {int(result['keys'])}")
    print(f"latency p50 / p95 / max  {result['p50_ms']:.1f} / {result['p95_ms']:.1f} / {result['max_ms']:.1f} ms")
    print(f"peak memory (RSS)      {result['peak_mb']:.0f} MB")
    lag = result["max_lag_lines"]
    lag_ms = lag / max(result["lines"], 1) * result["flood_seconds"] * 1000
    print(f"output lag, at most    {int(lag):,} lines ({lag_ms:.0f} ms of the flood)")
    print(f"output tail            {int(result['kept']):,} newest lines kept, "
          f"{'all there in order' if result['tail_intact'] else 'LINES MISSING'}, "
          f"{'following the end' if result['following'] and result['last_shown'] else 'NOT following'}")  # fmt: skip
    ok = result["p95_ms"] <= 100 and result["peak_mb"] <= 250 and result["tail_intact"] and result["following"]
    print("goal p95 ≤ 100 ms, memory ≤ 250 MB, tail intact and followed:", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
