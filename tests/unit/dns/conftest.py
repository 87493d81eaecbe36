"""Lab nameservers on loopback for the DNS tests, and small builders."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator

import pytest

from cockpit.dns.observation import Pair, Server
from cockpit.lab.dns_zone import LabZone
from cockpit.lab.nameserver import LabNameserver

OLD = [(10, "mail.old-host.net.")]
NEW = [(10, "mail.new-host.net.")]
PARKING = [(10, "parked.new-host.net.")]


def zones(serial: int = 1) -> list[LabZone]:
    return [
        LabZone.build("example.com", mx=OLD, serial=serial, addresses={"ns1": "127.0.0.1", "www": "127.0.0.1"}),
        LabZone.build("example.org", mx=OLD, serial=serial),
        LabZone.build("nomx.example", serial=serial, addresses={"www": "127.0.0.1"}),
    ]


def pair(domain: str, ns: LabNameserver) -> Pair:
    return Pair(domain, Server(ns.host, ns.port))


@pytest.fixture
async def lab() -> AsyncIterator[LabNameserver]:
    async with LabNameserver(zones(), record=True) as ns:
        yield ns


@pytest.fixture
async def lab2() -> AsyncIterator[LabNameserver]:
    async with LabNameserver(zones(serial=7), record=True) as ns:
        yield ns


class ThreadedLab:
    """A lab nameserver on its own event loop in a thread, for code that runs asyncio.run itself (the CLI)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.ns = LabNameserver(zones())
        self.call(self.ns.start())

    def call(self, coro: object) -> object:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)  # type: ignore[arg-type]

    def run(self, fn: object, *args: object) -> None:
        async def inside() -> None:
            fn(*args)  # type: ignore[operator]

        self.call(inside())

    def close(self) -> None:
        self.call(self.ns.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture
def threaded_lab() -> Iterator[ThreadedLab]:
    lab = ThreadedLab()
    try:
        yield lab
    finally:
        lab.close()
