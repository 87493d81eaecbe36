"""A secondary that follows a lab primary after a lag, as a slow zone transfer or a late NOTIFY would.

The demo needs a nameserver that keeps serving the old MX for a while after the change: that is the
"not yet propagated" server the operator watches.
"""

from __future__ import annotations

import asyncio

import dns.name

from cockpit.base.clock import Clock, SystemClock
from cockpit.lab.dns_zone import LabZone
from cockpit.lab.nameserver import LabNameserver


class LaggingSecondary:
    """Copies every zone of `primary` into `secondary` now, and again `lag` seconds after each change."""

    def __init__(
        self, primary: LabNameserver, secondary: LabNameserver, lag: float, clock: Clock | None = None
    ) -> None:
        self.primary = primary
        self.secondary = secondary
        self.lag = lag
        self.clock: Clock = clock or SystemClock()
        self.transfers = 0
        self._scheduled: dict[dns.name.Name, asyncio.Task[None]] = {}
        self._unsubscribe = primary.on_change(self._changed)
        for zone in primary.zones.values():
            secondary.add_zone(zone.copy())

    def _changed(self, zone: LabZone) -> None:
        if zone.origin in self._scheduled:
            return
        self._scheduled[zone.origin] = asyncio.get_running_loop().create_task(self._transfer(zone.origin))

    async def _transfer(self, origin: dns.name.Name) -> None:
        try:
            await self.clock.sleep(self.lag)
            zone = self.primary.zones.get(origin)
            if zone is not None:
                self.secondary.add_zone(zone.copy())
                self.transfers += 1
        finally:
            self._scheduled.pop(origin, None)

    async def stop(self) -> None:
        self._unsubscribe()
        tasks = list(self._scheduled.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
