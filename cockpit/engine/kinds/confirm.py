"""`confirm`: a manual action the operator does elsewhere (a DNS panel, a phone call) and confirms here."""

from __future__ import annotations

from cockpit.engine.context import StepContext
from cockpit.engine.states import StepState
from cockpit.plan import ConfirmStep


class ConfirmKind:
    async def run(self, ctx: StepContext) -> str:
        assert isinstance(ctx.step, ConfirmStep)
        ctx.set_state(StepState.AWAITING_CONFIRMATION, ctx.step.text)
        await ctx.ask_operator(ctx.step.text)
        return "confirmed"
