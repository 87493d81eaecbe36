"""Both inventories of a pass, overlapped: the source's expands its path pattern and names its mailboxes first;
the destination's program is started at once too and gets its mailboxes the moment those names are known,
while the source's goes on listing messages."""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType
from typing import Any

from cockpit.mail.copy_plan import destination_mailboxes
from cockpit.mail.events import MailSink
from cockpit.mail.host_call import HostCall
from cockpit.mail.inventory import (
    Found,
    InventoryBuilder,
    known_state,
    paths_params,
    pattern_params,
    take_inventory,
)
from cockpit.mail.inventory_model import StoreInventory
from cockpit.mail.store_spec import MailboxRef, StoreSpec
from cockpit.ssh import Clock, HostConnections


class TwoSides:
    """`async with TwoSides(...) as sides:` starts the source's inventory; leaving cancels what still runs."""

    def __init__(
        self,
        connections: HostConnections,
        source: StoreSpec,
        dest: StoreSpec,
        *,
        sink: MailSink,
        clock: Clock,
        names: tuple[str, str],
        domain: str | None = None,
        previous: tuple[StoreInventory | None, StoreInventory | None] = (None, None),
        dest_lock: str = "shared",
        repair: bool = False,
        on_source_message: Found | None = None,
    ) -> None:
        self.connections = connections
        self.source_spec, self.dest_spec = source, dest
        self.domain = domain
        self.sink, self.clock, self.names = sink, clock, names
        self.previous = previous
        self.dest_lock, self.repair = dest_lock, repair
        self.builder = InventoryBuilder(
            source, previous[0], sink, clock, names[0], on_mailboxes=self._listed, on_message=on_source_message
        )
        self.dest_builder = InventoryBuilder(dest, previous[1], sink, clock, names[1])
        self._dest_call = HostCall(dest.host, "inventory", self.dest_builder.on_value, lost="during the inventory")
        self._dest_started: asyncio.Task[None] | None = None
        self.source_refs: list[MailboxRef] = []
        self.dest_refs: list[MailboxRef] = []
        self._listed_future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._source: asyncio.Task[StoreInventory] | None = None
        self._dest: asyncio.Task[StoreInventory] | None = None

    async def __aenter__(self) -> TwoSides:
        self._dest_started = asyncio.ensure_future(self._start_dest())
        self._source = asyncio.ensure_future(
            take_inventory(
                self.connections, self.source_spec, pattern_params(self.source_spec), self.builder, self.previous[0]
            )
        )
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        tasks = [task for task in (self._source, self._dest, self._dest_started) if task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        self._dest_call.stop()

    async def _start_dest(self) -> None:
        conn = await self.connections.connect(self.dest_spec.host)
        await self._dest_call.start(conn)

    async def _run_dest(self) -> StoreInventory:
        assert self._dest_started is not None
        await self._dest_started
        params = paths_params(self.dest_spec, self.dest_refs, self.dest_lock, self.repair)
        self._dest_call.feed(params, known_state(self.previous[1], self.dest_spec))
        await self._dest_call.result()
        self.dest_builder.report()
        return self.dest_builder.result()

    def _listed(self, refs: list[MailboxRef]) -> None:
        """Called by the source's builder once its mailboxes are known: start on the destination."""
        self.source_refs = refs
        self.dest_refs = destination_mailboxes(refs, self.dest_spec, self.domain)
        self._dest = asyncio.ensure_future(self._run_dest())
        if not self._listed_future.done():
            self._listed_future.set_result(None)

    async def listed(self) -> list[MailboxRef]:
        """The source's mailboxes (the destination's are `dest_refs`, by the same index)."""
        assert self._source is not None
        waiting: list[asyncio.Future[Any]] = [self._source, self._listed_future]
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        if not self._listed_future.done():
            self._source.result()  # it failed before naming its mailboxes: raise that
            raise AssertionError("the source inventory ended without naming its mailboxes")
        return self.source_refs

    async def destination(self) -> StoreInventory:
        """The destination's inventory; raises at once if the source's fails meanwhile."""
        await self.listed()
        assert self._source is not None and self._dest is not None
        while not self._dest.done():
            await asyncio.wait([self._source, self._dest], return_when=asyncio.FIRST_COMPLETED)
            if self._source.done() and not self._dest.done():
                self._source.result()  # raises if it failed
                return await self._dest
        return self._dest.result()

    async def source(self, *also: asyncio.Future[None]) -> StoreInventory | None:
        """The source's inventory; None when one of `also` ended first."""
        assert self._source is not None
        waiting: list[asyncio.Future[Any]] = [self._source, *also]
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        return self._source.result() if self._source.done() else None
