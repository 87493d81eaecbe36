"""The lab's lagging secondary: it keeps serving the old MX until its lag has passed."""

from __future__ import annotations

import asyncio

from cockpit.base.clock import FakeClock
from cockpit.dns.observation import Status
from cockpit.dns.query import DirectQuerier
from cockpit.lab.dns_secondary import LaggingSecondary
from cockpit.lab.nameserver import LabNameserver
from tests.unit.dns.conftest import NEW, pair, zones


async def test_secondary_follows_after_the_lag() -> None:
    clock = FakeClock()
    async with LabNameserver(zones()) as primary, LabNameserver() as secondary:
        follower = LaggingSecondary(primary, secondary, lag=60, clock=clock)
        querier = DirectQuerier(timeout=1)
        try:
            primary.set_mx("example.com", NEW, 600)
            await asyncio.sleep(0)
            p, s = await querier.observe_all([pair("example.com", primary), pair("example.com", secondary)])
            assert (p.mx_text(), p.serial) == ("10 mail.new-host.net.", 2)
            assert (s.mx_text(), s.serial) == ("10 mail.old-host.net.", 1), "not yet propagated"
            await clock.advance(60)
            s = await querier.observe(pair("example.com", secondary))
            assert (s.status, s.mx_text(), s.serial, s.ttl) == (Status.OK, "10 mail.new-host.net.", 2, 600)
            assert follower.transfers == 1
        finally:
            await follower.stop()
            await querier.close()
