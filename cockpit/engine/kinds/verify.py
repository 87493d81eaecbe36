"""`verify`: fresh inventories of both stores, compared message by message (identities as multisets): every
message of the source must be on the destination exactly as often. Mail that arrived on the destination only
(after the flip) is allowed and listed; a message missing or doubled fails the step, naming mailbox and folder."""

from __future__ import annotations

from cockpit.engine.context import StepContext, StepFailed
from cockpit.engine.events import VerifyDone
from cockpit.engine.kinds.base import KindOf
from cockpit.engine.mail_glue import MailSink, mail_failure, one_domain, store_spec
from cockpit.mail import verify
from cockpit.plan import VerifyStep
from cockpit.ssh import SshError


class VerifyKind(KindOf[VerifyStep]):
    async def run(self, ctx: StepContext) -> str:
        step = self.step
        source = store_spec(ctx.plan, step.source, ctx.base_dir)
        dest = store_spec(ctx.plan, step.dest, ctx.base_dir)
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
