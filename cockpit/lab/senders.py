"""A swarm of simulated remote MTAs: uniquely numbered messages at a steady rate, MX resolved through the
lab nameservers with TTL-honouring caches, temporary failures retried with backoff, never given up.

Times are compressed by `speed` (backoff, rate); DNS TTLs are whatever the lab zones serve.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

from cockpit.lab.mail_store import ID_HEADER
from cockpit.lab.sender_cache import CachingResolver, LookupFailed
from cockpit.lab.smtp_client import deliver
from cockpit.lab.tally import Tally


@dataclass
class SwarmConfig:
    domain: str
    nameservers: list[tuple[str, int]]
    smtp_port: int
    mailboxes: tuple[str, ...] = ("alice", "bob", "carol")
    senders: int = 5
    interval: float = 1.0
    """Seconds between two messages of one sender."""
    backoff_first: float = 2.0
    backoff_max: float = 16.0
    messages: int | None = None
    """Stop submitting new messages after this many (retries go on); None = until stopped."""
    ports: dict[str, int] = field(default_factory=dict)
    """SMTP port per MX host name (absolute, lower-case) or per address, where it is not `smtp_port`: for
    platforms that cannot give each MTA its own loopback address."""


class Swarm:
    def __init__(self, config: SwarmConfig, tally: Tally, *, seed: int = 1) -> None:
        self.config = config
        self.tally = tally
        self._random = random.Random(seed)
        self._tasks: set[asyncio.Task[None]] = set()
        self._next_id = 0
        self._submitting = True
        self._closed = False
        self.resolvers = [
            CachingResolver(config.nameservers, time.time, seed=seed * 1000 + n) for n in range(config.senders)
        ]

    def start(self) -> None:
        for number, resolver in enumerate(self.resolvers):
            self._spawn(self._sender(number, resolver))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def stop_submitting(self) -> None:
        """No new messages; those in flight keep retrying until delivered or the swarm is closed."""
        self._submitting = False

    @property
    def pending(self) -> int:
        return self.tally.pending()

    async def close(self) -> None:
        """Cancel every sender and message, again until all are gone (a cancellation can be swallowed)."""
        self._submitting = False
        self._closed = True
        while self._tasks:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.wait(list(self._tasks), timeout=1.0)

    async def _sender(self, number: int, resolver: CachingResolver) -> None:
        await asyncio.sleep(self._random.uniform(0, self.config.interval))
        while self._submitting:
            if self.config.messages is not None and self._next_id >= self.config.messages:
                self._submitting = False
                break
            self._next_id += 1
            lab_id = self._next_id
            self.tally.sent(lab_id, number)
            self._spawn(self._message(lab_id, number, resolver))
            await asyncio.sleep(self.config.interval)

    async def _message(self, lab_id: int, number: int, resolver: CachingResolver) -> None:
        mailbox = self._random.choice(self.config.mailboxes)
        data = (
            f"From: sender{number}@remote.example\r\nTo: {mailbox}@{self.config.domain}\r\n"
            f"Subject: lab message {lab_id}\r\nDate: {formatdate()}\r\n"
            f"Message-ID: <lab-{lab_id}.{number}@remote.example>\r\n{ID_HEADER}: {lab_id}\r\n\r\n"
            f"Message {lab_id} from sender {number}.\r\n"
        ).encode()
        delay = self.config.backoff_first
        while not self._closed:
            outcome, target = await self._attempt(resolver, mailbox, data)
            if outcome is None:
                self.tally.delivered(lab_id, target)
                return
            self.tally.deferred(lab_id, target, outcome)
            await asyncio.sleep(delay * self._random.uniform(0.8, 1.2))
            delay = min(delay * 2, self.config.backoff_max)

    async def _attempt(self, resolver: CachingResolver, mailbox: str, data: bytes) -> tuple[str | None, str]:
        """None on success, else why it must be retried; and the MX host tried."""
        try:
            hosts = await resolver.mx_hosts(self.config.domain)
        except LookupFailed as exc:
            return str(exc), "dns"
        last = "no MX host"
        for host in hosts:
            try:
                address = await resolver.address(host)
            except LookupFailed as exc:
                last = str(exc)
                continue
            port = self.config.ports.get(host, self.config.ports.get(address, self.config.smtp_port))
            result = await deliver(address, port, "sender@remote.example", f"{mailbox}@{self.config.domain}", data,
                                   timeout=5)  # fmt: skip
            if result.ok:
                return None, host
            last = result.detail
            if not result.temporary:
                return f"permanent failure treated as temporary by the lab: {result.detail}", host
        return last, hosts[-1] if hosts else "dns"


async def drain(swarm: Swarm, timeout: float) -> bool:
    """Wait until every submitted message was delivered; False on timeout."""
    deadline = time.monotonic() + timeout
    while swarm.pending and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    return swarm.pending == 0
