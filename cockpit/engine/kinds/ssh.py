"""`ssh`: one command on a plan host, its output streamed line by line into the run's events.

A connection lost before the exit status arrived fails the step as "connection lost — outcome unknown":
the command may or may not have done its work, so it is never counted as success.
"""

from __future__ import annotations

from cockpit.engine.context import StepContext, StepFailed
from cockpit.engine.events import OutputLine
from cockpit.engine.kinds.base import KindOf
from cockpit.plan import SshStep
from cockpit.ssh import ConnectionLostError, OutputLines, SshError, SshEvent, run_command


class SshKind(KindOf[SshStep]):
    async def run(self, ctx: StepContext) -> str:
        step = self.step
        services = ctx.services
        try:
            conn = await services.connect(step.host)
        except SshError as exc:
            raise StepFailed(str(exc)) from None
        ctx.info(f"{step.host}$ {step.run}")

        def sink(event: SshEvent) -> None:
            if isinstance(event, OutputLines):
                for text in event.lines:
                    ctx.publish(OutputLine(event.timestamp, step.id, step.host, event.stream, text))

        try:
            result = await run_command(conn, step.run, host=step.host, sink=sink, pty=step.pty, clock=ctx.clock)
        except ConnectionLostError:
            services.drop(step.host)
            raise StepFailed(f"{step.host}: connection lost — outcome unknown") from None
        except SshError as exc:
            services.drop(step.host)
            raise StepFailed(str(exc)) from None
        if not result.ok:
            raise StepFailed(f"{step.host}: {result.describe()}")
        return f"{step.host}: {result.describe()}"
