"""Mail at hosting-company scale: one `verify` step over 20,000 mailboxes (both inventories, the comparison,
one ItemDone per mailbox), against a baseline of 1,000 mailboxes measured in the same run; with `--step sync`,
one first `sync` pass instead (every message copied into an empty destination, the pass's state and tally
written beside a journal after each batch, one ItemDone per mailbox).

Two lab SSH hosts (in-process asyncssh servers on loopback; the host program runs as a real python3 process
per batch and side) hold Maildir stores written straight to disk: one message per mailbox, the same on both
sides, so every mailbox verifies. The step runs through the engine's step kind (fan-out, batches of 250
mailboxes, `concurrency` batches at once) with the journal's events counted, not written. It prints mailboxes
per second for each size and concurrency, the ratio of the large run's rate to the baseline's (1.0: the
rate holds at scale), and the peak RSS of this process (the cockpit plus the in-process SSH servers).

    python bench/mail_scale.py [--step verify|sync] [--mailboxes N] [--baseline N] [--concurrency C ...]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from pathlib import Path

from cockpit.base.clock import SystemClock
from cockpit.engine.context import StepContext
from cockpit.engine.events import Event, EventBus, ItemDone, ItemFailed
from cockpit.engine.kinds.sync import SyncKind
from cockpit.engine.kinds.verify import VerifyKind
from cockpit.engine.services import RunServices
from cockpit.lab.ssh_host import LabSshHost
from cockpit.plan import Plan, SyncStep, VerifyStep, parse_plan


def make_store(root: Path, count: int) -> None:
    """`count` Maildirs under root/uNNNNN/Maildir with one message each."""
    for i in range(count):
        box = root / f"u{i:05d}" / "Maildir"
        for sub in ("cur", "new", "tmp"):
            (box / sub).mkdir(parents=True, exist_ok=True)
        data = f"From: s{i}@example.com\nTo: u{i}@example.com\nMessage-ID: <m{i}@example.com>\n\nhello {i}\n"
        (box / "cur" / f"{1_700_000_000 + i}.M{i}P1.old:2,S").write_text(data)


def plan_text(
    old: LabSshHost, new: LabSshHost, root: Path, count: int, concurrency: int, kind: str = "verify", dest: str = ""
) -> str:
    def host(lab: LabSshHost) -> str:
        return (f"{{address: 127.0.0.1, port: {lab.port}, user: lab, known_hosts: {lab.known_hosts}, "
                f"identity: {lab.client_key}}}")  # fmt: skip

    return f"""\
version: 1
name: Mail scale
domains: [example.com]
mx: {{old: a.example.net., new: b.example.net.}}
hosts:
  old: {host(old)}
  new: {host(new)}
stores:
  old-home: {{host: old, format: maildir, path: "{root}/old-{count}/{{user}}/Maildir"}}
  new-home: {{host: new, format: maildir, path: "{root}/{dest or f"new-{count}"}/{{user}}/Maildir"}}
phases:
  - name: check
    steps:
      - {kind}: {{from: old-home, to: new-home}}
        id: {kind}
        concurrency: {concurrency}
"""


async def verify_once(
    old: LabSshHost, new: LabSshHost, root: Path, count: int, concurrency: int, kind: str = "verify"
) -> float:
    """One step over `count` mailboxes; a sync copies into a destination of its own, empty at the start."""
    dest = f"new-{count}-sync-{concurrency}" if kind == "sync" else ""
    plan = parse_plan(plan_text(old, new, root, count, concurrency, kind, dest), "bench.yaml")
    assert isinstance(plan, Plan)
    (_, step), *_ = plan.steps()
    assert isinstance(step, (VerifyStep, SyncStep))
    clock = SystemClock()
    bus = EventBus()
    done, failed = 0, 0

    def count_items(event: Event) -> None:
        nonlocal done, failed
        done += isinstance(event, ItemDone)
        failed += isinstance(event, ItemFailed)

    bus.subscribe(count_items)
    services = RunServices(plan, root, clock, bus, watch_dns=False)
    services.state_prefix = root / ".cockpit" / f"bench-{count}-{concurrency}.yaml"

    async def never(question: str) -> str:
        raise AssertionError(question)

    ctx = StepContext(plan=plan, base_dir=root, step=step, attempt=1, clock=clock, dry_run=False,
                      publish=bus.publish, set_state=lambda state, detail: None, ask_operator=never,
                      services=services)  # fmt: skip
    start = time.perf_counter()
    try:
        result = await (VerifyKind(step) if isinstance(step, VerifyStep) else SyncKind(step)).run(ctx)
    finally:
        await services.close()
    seconds = time.perf_counter() - start
    assert failed == 0 and (done == count or count <= 250), (done, failed, result)
    return seconds


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", choices=("verify", "sync"), default="verify")
    parser.add_argument("--mailboxes", type=int, default=20_000)
    parser.add_argument("--baseline", type=int, default=1_000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 8])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mail-scale-") as folder:
        root = Path(folder)
        made = time.perf_counter()
        for count in (args.baseline, args.mailboxes):
            for side in ("old", "new") if args.step == "verify" else ("old",):
                make_store(root / f"{side}-{count}", count)
        sides = 2 if args.step == "verify" else 1
        print(f"stores: {sides} × ({args.baseline:,} + {args.mailboxes:,}) mailboxes written in "
              f"{time.perf_counter() - made:.1f} s")  # fmt: skip
        async with LabSshHost(root / "old-host", name="old") as old, LabSshHost(root / "new-host", name="new") as new:
            for concurrency in args.concurrency:
                base = await verify_once(old, new, root, args.baseline, concurrency, args.step)
                large = await verify_once(old, new, root, args.mailboxes, concurrency, args.step)
                base_rate, large_rate = args.baseline / base, args.mailboxes / large
                print(f"{args.step}, concurrency {concurrency}: {args.baseline:,} mailboxes in {base:.2f} s "
                      f"({base_rate:,.0f}/s); {args.mailboxes:,} in {large:.2f} s ({large_rate:,.0f}/s); "
                      f"ratio {large_rate / base_rate:.2f}")  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak:.0f} MB")


if __name__ == "__main__":
    asyncio.run(main())
