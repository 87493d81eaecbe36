"""The fan-out helper: at most `concurrency` items at once, failures collected without stopping siblings,
items done earlier skipped, cancellation reaching every running item, one item behaving as a plain step."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from cockpit.base.clock import FakeClock
from cockpit.engine.context import StepContext, StepFailed
from cockpit.engine.events import Event, EventBus, ItemDone, ItemFailed, OutputLine, StepProgress
from cockpit.engine.fanout import ItemError, ItemOutput, fan_out, fan_out_batches
from cockpit.engine.services import RunServices
from cockpit.plan import Plan, parse_plan

PLAN = """\
version: 1
name: Fan-out
domains: [example.com]
ttl: 60
mx: {old: a.example.net., new: b.example.net.}
secrets: {k: {env: K}}
phases:
  - name: p
    steps:
      - dns_update: {server: 127.0.0.1, key: k, mx: new}
        id: flip
        concurrency: CONCURRENCY
"""


def context(concurrency: int, events: list[Event], done: set[str] | None = None) -> StepContext:
    plan = parse_plan(PLAN.replace("CONCURRENCY", str(concurrency)), "t.yaml")
    assert isinstance(plan, Plan)
    (_, step), *_ = plan.steps()
    clock = FakeClock()
    bus = EventBus()
    bus.subscribe(events.append)
    services = RunServices(plan, Path(), clock, bus, watch_dns=False)
    return StepContext(plan=plan, base_dir=Path(), step=step, attempt=1, clock=clock, dry_run=False,
                       publish=bus.publish, set_state=lambda state, detail: None, ask_operator=_never,
                       services=services, items_done=done if done is not None else set())  # fmt: skip


async def _never(question: str) -> str:
    raise AssertionError("no question expected")


async def test_no_more_than_concurrency_items_run_at_once() -> None:
    events: list[Event] = []
    ctx = context(3, events)
    running, peak = 0, 0

    async def work(item: str, out: ItemOutput) -> str:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.001 * (int(item) % 4))
        running -= 1
        return f"did {item}"

    result = await fan_out(ctx, [str(i) for i in range(40)], work, noun="zones")
    assert peak == 3
    assert result.done == 40 and not result.failed
    assert sorted(e.item for e in events if isinstance(e, ItemDone)) == sorted(str(i) for i in range(40))
    assert ctx.items_done == {str(i) for i in range(40)}
    assert not [e for e in events if isinstance(e, OutputLine)]  # 40 items: no stream per item
    assert [e for e in events if isinstance(e, StepProgress)][-1].text == "40 of 40 zones done · 0 running"


async def test_failed_items_do_not_stop_their_siblings_and_are_named() -> None:
    events: list[Event] = []
    ctx = context(4, events)

    async def work(item: str, out: ItemOutput) -> str:
        out.line(f"asking for {item}")
        if item in ("b.test", "e.test"):
            raise ItemError(f"NOTAUTH from ns1 for zone {item}", "NOTAUTH")
        if item == "f.test":
            raise TimeoutError
        return "ok"

    items = [f"{c}.test" for c in "abcdefghijkl"]
    with pytest.raises(StepFailed) as failed:
        await fan_out(ctx, items, work, noun="zones")
    assert str(failed.value) == "9 done, 3 failed: b.test (NOTAUTH), e.test (NOTAUTH), f.test (timed out)"
    failures = {e.item: e for e in events if isinstance(e, ItemFailed)}
    assert set(failures) == {"b.test", "e.test", "f.test"}
    assert failures["b.test"].lines == ("asking for b.test",)
    assert ctx.items_done == set(items) - set(failures)


async def test_items_done_earlier_are_not_redone() -> None:
    events: list[Event] = []
    ctx = context(2, events, done={"1", "2", "3"})
    seen: list[str] = []

    async def work(item: str, out: ItemOutput) -> str:
        seen.append(item)
        return "ok"

    result = await fan_out(ctx, ["1", "2", "3", "4", "5"], work, noun="zones")
    assert sorted(seen) == ["4", "5"]
    assert result.summary() == "5 done (3 in an earlier attempt)"


async def test_cancelling_the_step_cancels_every_running_item() -> None:
    events: list[Event] = []
    ctx = context(5, events)
    started = asyncio.Event()
    cancelled: list[str] = []
    count = 0

    async def work(item: str, out: ItemOutput) -> str:
        nonlocal count
        count += 1
        if count == 5:
            started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.append(item)
            raise
        return "never"

    task = asyncio.ensure_future(fan_out(ctx, [str(i) for i in range(100)], work, noun="zones"))
    await asyncio.wait_for(started.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(cancelled) == 5
    assert count == 5  # no item started after the cancellation
    assert not [e for e in events if isinstance(e, ItemDone | ItemFailed)]


async def test_one_item_is_a_plain_step() -> None:
    events: list[Event] = []
    ctx = context(16, events)

    async def work(item: str, out: ItemOutput) -> str:
        out.line("REFUSED by ns1")
        raise ItemError("REFUSED by ns1: key not allowed", "REFUSED")

    with pytest.raises(StepFailed, match=r"^REFUSED by ns1: key not allowed$"):
        await fan_out(ctx, ["example.com"], work, noun="zones")
    assert [e.text for e in events if isinstance(e, OutputLine)] == ["REFUSED by ns1"]
    assert not [e for e in events if isinstance(e, ItemDone | ItemFailed | StepProgress)]


async def test_a_failed_batch_fails_each_of_its_items() -> None:
    events: list[Event] = []
    ctx = context(2, events)

    async def work(batch: tuple[str, ...], out: ItemOutput) -> dict[str, str | ItemError]:
        if "m3" in batch:
            raise ItemError("connection lost — outcome unknown", "connection lost")
        return {item: "ok" if item != "m6" else ItemError("2 messages missing", "missing") for item in batch}

    batches = [("m1", "m2"), ("m3", "m4"), ("m5", "m6")]
    with pytest.raises(StepFailed) as failed:
        await fan_out_batches(ctx, batches, work, noun="mailboxes")
    assert str(failed.value) == "3 done, 3 failed: m3 (connection lost), m4 (connection lost), m6 (missing)"
