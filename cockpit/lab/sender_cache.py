"""A sender's own DNS cache: MX and A answers kept for exactly their TTL, as a remote MTA's resolver does.

This is why the method waits one old TTL after the flip: a sender that looked up the MX just before it
changed keeps delivering to the old host until its cached answer expires.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import dns.asyncquery
import dns.exception
import dns.message
import dns.rdataclass
import dns.rdatatype
import dns.rrset


class LookupFailed(Exception):
    """No usable answer now: the sender treats it as a temporary failure and retries later."""


@dataclass(frozen=True)
class Cached:
    values: tuple[str, ...]
    expires: float


class CachingResolver:
    """Asks one of the lab's nameservers at random (like a recursive resolver would) and caches by TTL."""

    def __init__(
        self, nameservers: list[tuple[str, int]], now: Callable[[], float], *, timeout: float = 1.0, seed: int = 0
    ) -> None:
        self.nameservers = nameservers
        self.now = now
        self.timeout = timeout
        self.cache: dict[tuple[str, str], Cached] = {}
        self._random = random.Random(seed)

    async def mx_hosts(self, domain: str) -> tuple[str, ...]:
        """MX hosts by preference."""
        return await self._lookup(domain, "MX")

    async def address(self, host: str) -> str:
        values = await self._lookup(host, "A")
        return values[0]

    async def _lookup(self, name: str, rdtype: str) -> tuple[str, ...]:
        key = (name.lower().rstrip("."), rdtype)
        entry = self.cache.get(key)
        if entry is not None and entry.expires > self.now():
            return entry.values
        address, port = self._random.choice(self.nameservers)
        query = dns.message.make_query(key[0] + ".", rdtype, flags=0)
        try:
            response, _ = await dns.asyncquery.udp_with_fallback(query, address, timeout=self.timeout, port=port)
        except (dns.exception.DNSException, OSError) as exc:
            raise LookupFailed(f"{rdtype} {name} @{address}:{port}: {type(exc).__name__}") from None
        answer = response.get_rrset(response.answer, query.question[0].name, dns.rdataclass.IN,
                                    dns.rdatatype.from_text(rdtype))  # fmt: skip
        if answer is None or len(answer) == 0:
            raise LookupFailed(f"{rdtype} {name} @{address}:{port}: no answer (rcode {response.rcode()})")
        values = _values(answer, rdtype)
        self.cache[key] = Cached(values, self.now() + answer.ttl)
        return values


def _values(answer: dns.rrset.RRset, rdtype: str) -> tuple[str, ...]:
    if rdtype == "MX":
        records = sorted(answer, key=lambda r: (r.preference, r.exchange.to_text()))
        return tuple(r.exchange.to_text().lower() for r in records)
    return tuple(r.to_text() for r in answer)
