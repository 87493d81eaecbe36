"""Downtime forecast against the measured downtime, in the embedded lab at two speeds.

For each speed: `cockpit demo --headless --speed S --dir D` twice in one lab folder. The first run forecasts
from what it measures itself (no rehearsal exists yet); the second also has the first run's journal as a
rehearsal (the lab keeps earlier journals, as `--fresh` archives them). For each run the forecast is the last
one made before the downtime started (the `ForecastMade` record), the measured downtime the engine's one
definition (the report's figure). The ratio is forecast / measured; the goal is within ±25 % (0.75–1.25).

    python bench/forecast.py [--speeds 20,5] [--rounds 1]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from cockpit.engine.downtime import DowntimeClock
from cockpit.engine.forecast_watch import forecast_from_record
from cockpit.engine.journal import read_journal

GOAL = 0.25


def one_run(folder: Path, speed: float) -> tuple[float, float, int]:
    """(forecast seconds, measured seconds, parts without an estimate) of one demo run in `folder`."""
    done = subprocess.run([sys.executable, "-m", "cockpit", "demo", "--headless", "--speed", f"{speed:g}", "--dir",
                           str(folder)], capture_output=True, text=True, timeout=1800)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"demo at speed {speed:g} failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr}")
    records = list(read_journal(folder / ".cockpit" / "plan.yaml.journal").records)
    clock = DowntimeClock.from_records(records)
    if clock.started is None or clock.ended is None:
        raise SystemExit("the demo's journal holds no closed downtime")
    made = [r for r in records if r["type"] == "ForecastMade" and r["at"] <= clock.started]
    if not made:
        raise SystemExit("the demo's journal holds no forecast made before the downtime")
    forecast = forecast_from_record(made[-1])
    return forecast.total, clock.ended - clock.started, len(forecast.unknown)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speeds", default="20,5", help="lab speeds, comma-separated (default 20,5)")
    parser.add_argument("--rounds", type=int, default=1, help="rehearsed runs after the first, per speed")
    args = parser.parse_args()
    print(f"{'speed':>6} {'run':>12} {'forecast':>9} {'measured':>9} {'ratio':>6} {'no estimate':>11}  within ±25 %")
    worst = 0.0
    for speed in (float(s) for s in args.speeds.split(",")):
        with tempfile.TemporaryDirectory(prefix="cockpit-forecast-") as tmp:
            folder = Path(tmp) / "lab"
            for run in range(1 + args.rounds):
                forecast, measured, unknown = one_run(folder, speed)
                ratio = forecast / measured
                label = "first" if run == 0 else f"rehearsed {run}"
                if run > 0:
                    worst = max(worst, abs(ratio - 1))
                ok = "yes" if abs(ratio - 1) <= GOAL else "NO"
                print(f"{speed:>6g} {label:>12} {forecast:>8.2f}s {measured:>8.2f}s {ratio:>6.2f} {unknown:>11}  {ok}")
    print(f"largest deviation of a rehearsed forecast: {worst:.0%} (goal ≤ {GOAL:.0%})")


if __name__ == "__main__":
    main()
