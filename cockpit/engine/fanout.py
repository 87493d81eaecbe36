"""A step that fans out over many items (zones, mailboxes, domains) with bounded concurrency.

One failed item does not stop its siblings: the step ends failed naming the failures, and a retry or a
resume redoes only the items not journaled as done (`ItemDone`). A step of one item behaves as a step always
did: its output goes straight to the output pane and its failure is the step's. With more items, each item's
output is kept (its last lines) and shown only when it fails, and the step reports a summary at most once a
second, so thousands of items never become thousands of interleaved streams.

Work is handed out by a fixed number of workers pulling from the list: never a task per item, whatever the
number of items.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from cockpit.base.units import format_count
from cockpit.engine.context import StepContext, StepFailed
from cockpit.engine.events import ItemDone, ItemFailed, ItemsProgress, OutputLine
from cockpit.engine.journal import JournalError

PROGRESS_EVERY = 1.0
"""Seconds between two summaries of a fan-out's progress."""
LAST_LINES = 3
"""Output lines kept per running item, shown with its failure."""
NAMED_FAILURES = 5
"""Failures named in the step's one-line result; the rest are counted (each has its own ItemFailed)."""
SHORT_REASON = 40
SHOWN_ITEMS = 8
"""Up to this many items, their output lines are also shown as they come (a plan of a few domains reads as
it always did); beyond, only a failed item's last lines are."""


class ItemError(Exception):
    """One item failed. `reason` is its one line; `short` what the step's summary says of it (`NOTAUTH`)."""

    def __init__(self, reason: str, short: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.short = short or _shorten(reason)


def _shorten(reason: str) -> str:
    return reason if len(reason) <= SHORT_REASON else reason[: SHORT_REASON - 1].rstrip() + "…"


class ItemOutput:
    """Where an item's work writes its lines: the step's output when the step has one item, else a short
    buffer of its last lines, journaled with the item's failure."""

    def __init__(self, ctx: StepContext, item: str, passthrough: bool) -> None:
        self.ctx = ctx
        self.item = item
        self.passthrough = passthrough
        self.last: deque[str] = deque(maxlen=LAST_LINES)

    def line(self, text: str, host: str = "cockpit", stream: str = "info") -> None:
        if self.passthrough:
            self.ctx.publish(OutputLine(self.ctx.clock.now(), self.ctx.step.id, host, stream, text))
        self.last.append(text)


BatchOutcome = Mapping[str, "str | ItemError"]
"""Item → its result line, or why it failed; an item of the batch missing from it failed without a word."""
BatchWork = Callable[[tuple[str, ...], ItemOutput], Awaitable[BatchOutcome]]
ItemWork = Callable[[str, ItemOutput], Awaitable[str]]


@dataclass
class FanOutResult:
    total: int
    done: int = 0
    """Items done in this attempt."""
    earlier: int = 0
    """Items done in an earlier attempt (not redone)."""
    failed: list[tuple[str, str]] = field(default_factory=list)
    """(item, short reason), in the order they failed."""
    details: dict[str, str] = field(default_factory=dict)
    """Item → its result line, for the items done in this attempt."""

    def summary(self) -> str:
        """`4,998 done, 2 failed: example.org (NOTAUTH), example.net (timed out)`."""
        done = self.done + self.earlier
        text = f"{format_count(done)} done"
        if self.earlier:
            text += f" ({format_count(self.earlier)} in an earlier attempt)"
        if self.failed:
            named = ", ".join(f"{item} ({why})" for item, why in self.failed[:NAMED_FAILURES])
            more = len(self.failed) - NAMED_FAILURES
            text += f", {format_count(len(self.failed))} failed: {named}"
            if more > 0:
                text += f" and {format_count(more)} more"
        return text


class _Progress:
    def __init__(self, ctx: StepContext, result: FanOutResult, noun: str) -> None:
        self.ctx, self.result, self.noun = ctx, result, noun
        self.running = 0
        self._last = 0.0

    def report(self, force: bool = False) -> None:
        now = self.ctx.clock.monotonic()
        if not force and now - self._last < PROGRESS_EVERY:
            return
        self._last = now
        r = self.result
        done = r.done + r.earlier
        text = f"{format_count(done)} of {format_count(r.total)} {self.noun} done"
        text += f" · {format_count(self.running)} running"
        if r.failed:
            text += f" · {format_count(len(r.failed))} failed"
        self.ctx.publish(ItemsProgress(self.ctx.clock.now(), self.ctx.step.id, text, done, r.total))


async def fan_out(ctx: StepContext, items: Sequence[str], work: ItemWork, *, noun: str) -> FanOutResult:
    """Run `work` for each item not done earlier, `ctx.step.workers` at once; StepFailed names the failures."""

    async def one(batch: tuple[str, ...], out: ItemOutput) -> BatchOutcome:
        try:
            return {batch[0]: await work(batch[0], out)}
        except ItemError as exc:
            return {batch[0]: exc}

    return await fan_out_batches(ctx, [(item,) for item in items], one, noun=noun)


async def fan_out_batches(
    ctx: StepContext, batches: Sequence[tuple[str, ...]], work: BatchWork, *, noun: str
) -> FanOutResult:
    """Like `fan_out`, for work done a batch of items at a time (mailboxes: one host program per batch).
    A batch that raises ItemError fails each of its items with that reason."""
    skip = ctx.items_done
    todo = [kept for batch in batches if (kept := tuple(item for item in batch if item not in skip))]
    total = sum(len(batch) for batch in batches)
    result = FanOutResult(total=total, earlier=total - sum(len(batch) for batch in todo))
    single = total == 1
    progress = _Progress(ctx, result, noun)
    queue = deque(todo)

    def record(item: str, outcome: str | ItemError, out: ItemOutput) -> None:
        now = ctx.clock.now()
        if isinstance(outcome, ItemError):
            result.failed.append((item, outcome.short))
            if single:
                raise StepFailed(outcome.reason)
            lines = tuple(line for line in out.last if line != outcome.reason)
            ctx.publish(ItemFailed(now, ctx.step.id, ctx.attempt, item, outcome.reason, lines))
            return
        result.done += 1
        result.details[item] = outcome
        skip.add(item)
        if not single:
            ctx.publish(ItemDone(now, ctx.step.id, ctx.attempt, item, outcome))

    async def worker() -> None:
        while queue:
            batch = queue.popleft()
            out = ItemOutput(ctx, batch[0] if len(batch) == 1 else f"{batch[0]} …", passthrough=total <= SHOWN_ITEMS)
            progress.running += len(batch)
            try:
                outcomes: BatchOutcome = await work(batch, out)
            except ItemError as exc:
                outcomes = dict.fromkeys(batch, exc)
            except (StepFailed, TimeoutError) as exc:
                outcomes = dict.fromkeys(batch, ItemError(str(exc) or "timed out"))
            except (asyncio.CancelledError, JournalError):
                raise
            except Exception as exc:  # a bug fails the items it touched, never their siblings
                outcomes = dict.fromkeys(batch, ItemError(f"internal error: {type(exc).__name__}: {exc}"))
            finally:
                progress.running -= len(batch)
            for item in batch:
                record(item, outcomes.get(item, ItemError("no outcome reported")), out)
            progress.report()

    workers = [asyncio.ensure_future(worker()) for _ in range(min(ctx.step.workers, len(todo)))]
    try:
        await asyncio.gather(*workers)
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    if not single:
        progress.report(force=True)
    if result.failed:
        raise StepFailed(result.summary())
    return result
