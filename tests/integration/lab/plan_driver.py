"""Runs the lab's plan step by step with the DNS and SSH layers directly: what the engine does, minus the
operator. Each step must succeed; `skip` leaves steps out (a reckless move)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Collection
from pathlib import Path

from cockpit.dns import DnsWatcher, Snapshot, load_tsig_key, update_mx, watch_pairs
from cockpit.plan import (
    OLD_TTL,
    ConfirmStep,
    CountdownStep,
    DnsUpdateStep,
    PlanFile,
    PortStep,
    SshStep,
    StepBase,
    TransferStep,
    WaitDnsStep,
    load_plan,
)
from cockpit.ssh import HostConnections, OutputLines, SshEvent, run_command, transfer

STEP_LIMIT = 30.0
"""Generous guard per step; nothing here asserts a duration."""


class PlanDriver:
    def __init__(self, plan_path: Path) -> None:
        self.file: PlanFile = load_plan(plan_path)
        self.plan = self.file.plan
        self.base = plan_path.parent
        self.hosts = HostConnections.for_plan(self.plan, self.base)
        self.watcher: DnsWatcher | None = None
        self._watch_task: asyncio.Task[None] | None = None
        self._target: str | None = None
        self.output: dict[str, list[str]] = {}
        """The output lines of each ssh step, by step id."""
        self.done: list[str] = []

    async def __aenter__(self) -> PlanDriver:
        pairs = await watch_pairs(self.plan.domains, self.plan.nameservers)
        self.watcher = DnsWatcher(
            pairs, states=self.plan.mx, interval=self.plan.dns.interval, timeout=self.plan.dns.timeout
        )
        self._watch_task = asyncio.create_task(self.watcher.run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._watch_task is not None:
            self._watch_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch_task
        if self.watcher is not None:
            await self.watcher.close()
        await self.hosts.close()

    def step(self, step_id: str) -> StepBase:
        return next(step for _, step in self.plan.steps() if step.id == step_id)

    async def run(
        self, *, skip: Collection[str] = (), until: str | None = None, before_step: Callable[[str], None] | None = None
    ) -> None:
        """Every step in order (from the first not yet done), stopping after `until`."""
        for _, step in self.plan.steps():
            if step.id in self.done or step.id in skip:
                continue
            if before_step is not None:
                before_step(step.id)
            async with asyncio.timeout(STEP_LIMIT):
                await self.run_step(step)
            self.done.append(step.id)
            if step.id == until:
                return

    async def run_step(self, step: StepBase) -> None:
        if isinstance(step, ConfirmStep):
            return
        if isinstance(step, DnsUpdateStep):
            await self._dns_update(step)
        elif isinstance(step, WaitDnsStep):
            await self._wait_dns(step)
        elif isinstance(step, CountdownStep):
            await self._countdown(step)
        elif isinstance(step, SshStep):
            await self._ssh(step)
        elif isinstance(step, TransferStep):
            await transfer(self.hosts, step.source, step.dest)
        elif isinstance(step, PortStep):
            outcome = await probe(step.address, step.port)
            assert outcome == ("refused" if step.expect == "closed" else "open"), f"{step.id}: {outcome}"
        else:
            raise AssertionError(f"unknown step {step!r}")

    async def _dns_update(self, step: DnsUpdateStep) -> None:
        key = load_tsig_key(self.plan.secrets[step.key], self.base)
        ttl = step.ttl if step.ttl is not None else self.plan.ttl
        assert ttl is not None
        for domain in step.domains or self.plan.domains:
            result = await update_mx(
                address=step.server.host,
                port=step.server.port or 53,
                domain=domain,
                records=self.plan.mx[step.mx],
                ttl=ttl,
                key=key,
                zone=step.zone,
            )
            assert result.ok, result.message
        assert self.watcher is not None
        self.watcher.poll_now()

    async def _wait_dns(self, step: WaitDnsStep) -> None:
        if step.mx is not None:
            self._target = step.mx
            await self.until(lambda snap: snap.converged(step.mx or ""))
        else:
            assert step.ttl_at_most is not None
            limit = step.ttl_at_most
            await self.until(lambda snap: snap.ttl_at_most(limit))

    async def until(self, condition: Callable[[Snapshot], bool]) -> Snapshot:
        """The first round (started after this call) that meets `condition`."""
        assert self.watcher is not None
        subscription = self.watcher.subscribe()
        try:
            self.watcher.poll_now()
            async for event in subscription:
                snapshot = getattr(event, "snapshot", None)
                if isinstance(snapshot, Snapshot) and condition(snapshot):
                    return snapshot
        finally:
            subscription.close()
        raise AssertionError("the watcher stopped")

    async def _countdown(self, step: CountdownStep) -> None:
        if step.wait == OLD_TTL:
            assert self.watcher is not None and self._target is not None
            old = self.watcher.history.old_ttl(self._target)
            assert old.ttl is not None and old.since is not None, old.detail
            await asyncio.sleep(max(0.0, old.since + old.ttl - time.time()))
        else:
            assert isinstance(step.wait, float)
            await asyncio.sleep(step.wait)

    async def _ssh(self, step: SshStep) -> None:
        lines = self.output.setdefault(step.id, [])

        def collect(event: SshEvent) -> None:
            if isinstance(event, OutputLines):
                lines.extend(event.lines)

        conn = await self.hosts.connect(step.host)
        result = await run_command(conn, step.run, host=step.host, sink=collect, pty=step.pty)
        assert result.ok, f"{step.id}: {result.describe()}: {lines[-5:]}"


async def probe(address: str, port: int) -> str:
    try:
        _, writer = await asyncio.open_connection(address, port)
    except ConnectionRefusedError:
        return "refused"
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return "open"
