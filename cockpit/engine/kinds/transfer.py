"""`transfer`: bytes streamed from one plan host to another through the cockpit, verified by SHA-256."""

from __future__ import annotations

from cockpit.base.units import format_duration, format_rate, format_size
from cockpit.engine.context import StepContext, StepFailed
from cockpit.engine.events import TransferProgress
from cockpit.engine.kinds.base import KindOf
from cockpit.plan import TransferStep
from cockpit.ssh import SshError, SshEvent, transfer
from cockpit.ssh import TransferProgress as SshProgress


class TransferKind(KindOf[TransferStep]):
    async def run(self, ctx: StepContext) -> str:
        step = self.step

        def sink(event: SshEvent) -> None:
            if isinstance(event, SshProgress):
                ctx.publish(TransferProgress(event.timestamp, step.id, event.done, event.total, event.rate, event.eta))

        ctx.info(f"copying {step.source} → {step.dest}")
        try:
            result = await transfer(ctx.services.connections, step.source, step.dest, sink=sink, clock=ctx.clock)
        except SshError as exc:
            for host in {step.source.host, step.dest.host}:
                ctx.services.drop(host)
            raise StepFailed(str(exc)) from None
        what = "directory (tar)" if result.directory else "file"
        rate = result.size / result.seconds if result.seconds > 0 else 0.0
        summary = (
            f"copied {format_size(result.size)} {what} in {format_duration(result.seconds)} ({format_rate(rate)}), "
            f"SHA-256 {result.sha256[:16]}… verified on {step.dest.host}"
        )
        ctx.info(summary)
        return summary
