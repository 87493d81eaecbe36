"""`verify`: fresh inventories of both stores, compared message by message (identities as multisets): every
message of the source must be on the destination exactly as often. Mail that arrived on the destination only
(after the flip) is allowed and listed; a message missing or doubled fails the step, naming mailbox and folder.

A store of many mailboxes fans out per mailbox, in batches (see mail_batches): a mailbox that differs fails
alone, and a retry compares only the mailboxes not found equal. Reading changes nothing, so a resume simply
compares again what was not journaled as equal."""

from __future__ import annotations

from collections import defaultdict

from cockpit.base.units import format_count
from cockpit.engine.context import StepContext, StepFailed
from cockpit.engine.events import VerifyDone
from cockpit.engine.fanout import BatchOutcome, ItemError, ItemOutput, fan_out_batches
from cockpit.engine.kinds.base import KindOf
from cockpit.engine.mail_batches import listed_batches
from cockpit.engine.mail_glue import MailSink, mail_failure, one_domain, store_spec
from cockpit.mail import FolderComparison, StoreSpec, ignore_mail_events, verify
from cockpit.plan import VerifyStep
from cockpit.ssh import SshError

LINES_KEPT = 200
"""Lines of differing folders the journal keeps for a fan-out's verdict (each mailbox's failure has its own)."""


class VerifyKind(KindOf[VerifyStep]):
    async def run(self, ctx: StepContext) -> str:
        step = self.step
        source = store_spec(ctx.plan, step.source, ctx.base_dir)
        dest = store_spec(ctx.plan, step.dest, ctx.base_dir)
        refs, batches = await listed_batches(ctx, source)
        if batches is None:
            return await self._whole(ctx, source, dest)
        ctx.info(f"{format_count(len(refs))} mailboxes of {step.source} in {format_count(len(batches.batches))} "
                 f"batches, {step.workers} at once")  # fmt: skip
        bad_lines: list[str] = []
        messages = 0

        async def compare(batch: tuple[str, ...], out: ItemOutput) -> BatchOutcome:
            nonlocal messages
            try:
                report = await verify(ctx.services.connections, batches.spec_for(source, batch), dest,
                                      sink=ignore_mail_events, clock=ctx.clock, source_name=step.source,
                                      dest_name=step.dest, domain=one_domain(ctx.plan))  # fmt: skip
            except SshError as exc:
                failure = mail_failure(exc, ctx)
                raise ItemError(str(failure)) from None
            messages += report.messages
            folders: dict[str, list[FolderComparison]] = defaultdict(list)
            for folder in report.folders:
                folders[folder.mailbox].append(folder)
            outcomes: dict[str, str | ItemError] = {}
            for name in batch:
                mine = folders.get(name, [])
                wrong = [f for f in mine if not f.ok]
                if wrong:
                    bad_lines.extend(f.describe() for f in wrong[: LINES_KEPT - len(bad_lines)])
                    reason = "; ".join(f.describe() for f in wrong)
                    outcomes[name] = ItemError(reason, "; ".join(f"{f.folder}: {f.difference()}" for f in wrong))
                else:
                    outcomes[name] = f"{format_count(sum(f.old_count for f in mine))} messages, all there"
            return outcomes

        try:
            result = await fan_out_batches(ctx, batches.batches, compare, noun="mailboxes")
        except StepFailed as failed:
            ctx.publish(VerifyDone(ctx.clock.now(), step.id, step.source, step.dest, False, str(failed),
                                   tuple(bad_lines)))  # fmt: skip
            raise
        verdict = (f"all {format_count(messages)} messages of {step.source} are on {step.dest} exactly as often "
                   f"({result.summary()} mailboxes)")  # fmt: skip
        ctx.publish(VerifyDone(ctx.clock.now(), step.id, step.source, step.dest, True, verdict, ()))
        return verdict

    async def _whole(self, ctx: StepContext, source: StoreSpec, dest: StoreSpec) -> str:
        """The store in one pass (up to a batch of mailboxes): output and verdict as the step always gave."""
        step = self.step
        try:
            report = await verify(ctx.services.connections, source, dest, sink=MailSink(ctx, dest.host),
                                  clock=ctx.clock, source_name=step.source, dest_name=step.dest,
                                  domain=one_domain(ctx.plan))  # fmt: skip
        except SshError as exc:
            raise mail_failure(exc, ctx) from None
        lines = tuple(report.lines())
        for line in lines:
            ctx.info(line)
        verdict = report.verdict()
        ctx.publish(VerifyDone(ctx.clock.now(), step.id, step.source, step.dest, report.ok, verdict, lines))
        if not report.ok:
            raise StepFailed(verdict)
        return verdict
