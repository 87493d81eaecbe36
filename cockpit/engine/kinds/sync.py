"""`sync`: copy to one store the messages of another that it lacks, by identity (never a second copy, whatever
was interrupted where, so `--yes` reruns it after a crash). The pass's state is kept beside the journal so the
next pass (the delta in the downtime, the stragglers after the flip) reads only what changed.

A store of many mailboxes fans out per mailbox, in batches (see sync_batches: its state and its pass's
tally are kept per mailbox): a mailbox that cannot be copied fails alone, and a retry or a resume copies only
the mailboxes not journaled as done. Up to a batch, the store is one pass, as it always was."""

from __future__ import annotations

from pathlib import Path

from cockpit.base.units import format_duration, format_size
from cockpit.engine.context import StepContext
from cockpit.engine.events import SyncPass
from cockpit.engine.kinds.base import KindOf
from cockpit.engine.kinds.sync_batches import BatchedSync
from cockpit.engine.mail_batches import listed_batches
from cockpit.engine.mail_glue import MailSink, mail_failure, one_domain, store_spec, write_atomically
from cockpit.mail import SyncResult, SyncState, sync
from cockpit.plan import SyncStep
from cockpit.ssh import SshError


class SyncKind(KindOf[SyncStep]):
    async def run(self, ctx: StepContext) -> str:
        step = self.step
        source = store_spec(ctx.plan, step.source, ctx.base_dir)
        dest = store_spec(ctx.plan, step.dest, ctx.base_dir)
        kept = ctx.services.state_file(f"sync-{step.source}-{step.dest}.state")
        previous = _previous(kept, ctx)
        ctx.info(f"{step.source} ({source.host}) → {step.dest} ({dest.host}): data passes through the cockpit; "
                 + ("a delta pass from the last pass's state" if previous else "a first, full pass"))  # fmt: skip
        refs, batches = await listed_batches(ctx, source)
        if batches is not None:
            try:
                batched = BatchedSync(ctx, step, (source, dest), refs, batches,
                                      (kept, ctx.services.state_file(f"sync-{step.source}-{step.dest}.pass")),
                                      previous)  # fmt: skip
            except SshError as exc:
                raise mail_failure(exc, ctx) from None
            result, done = await batched.run()
            return _passed(ctx, step, result, f"{result.summary()}; mailboxes: {done}")
        try:
            result = await sync(ctx.services.connections, source, dest, previous=previous,
                                sink=MailSink(ctx, dest.host), clock=ctx.clock, source_name=step.source,
                                dest_name=step.dest, domain=one_domain(ctx.plan))  # fmt: skip
        except SshError as exc:
            raise mail_failure(exc, ctx) from None
        if kept is not None:
            write_atomically(kept, result.state.to_bytes())
        return _passed(ctx, step, result, result.summary())


def _passed(ctx: StepContext, step: SyncStep, result: SyncResult, summary: str) -> str:
    """The pass's record for the forecast and the report, and its last lines."""
    ctx.publish(SyncPass(ctx.clock.now(), step.id, step.source, step.dest, result.messages_copied,
                         result.bytes_copied, result.seconds, result.source_messages, result.source_bytes,
                         result.inventory_seconds, result.copy_seconds))  # fmt: skip
    ctx.info(summary)
    ctx.info(delta_forecast(result))
    return summary


def _previous(kept: Path | None, ctx: StepContext) -> SyncState | None:
    if kept is None or not kept.is_file():
        return None
    try:
        return SyncState.from_bytes(kept.read_bytes())
    except (OSError, ValueError):
        ctx.info(f"the last pass's state ({kept.name}) is unreadable: reading both stores in full")
        return None


def delta_forecast(result: SyncResult) -> str:
    """What a next pass copying 1 % of the store would take at this pass's rates (the forecast's input)."""
    messages, size = max(1, result.source_messages // 100), result.source_bytes // 100
    seconds = result.estimate_seconds(messages, size)
    return (
        f"a next pass of 1 % ({messages:,} messages, {format_size(size)}) would take about "
        f"{format_duration(seconds)} at this pass's rates"
    )
