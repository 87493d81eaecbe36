"""`confirm`: a manual action the operator does elsewhere (a DNS panel, a phone call) and confirms here."""

from __future__ import annotations

from cockpit.engine.context import StepContext
from cockpit.engine.kinds.base import KindOf
from cockpit.engine.states import StepState
from cockpit.plan import ConfirmStep


class ConfirmKind(KindOf[ConfirmStep]):
    async def run(self, ctx: StepContext) -> str:
        ctx.set_state(StepState.AWAITING_CONFIRMATION, self.step.text)
        await ctx.ask_operator(self.step.text)
        return "confirmed"
