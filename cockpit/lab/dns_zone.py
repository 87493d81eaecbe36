"""A zone held as plain Python data for the lab nameserver: SOA, NS, MX, A and AAAA, with a serial to bump.

Kept apart from the server so a zone can be built, copied to a lagging secondary, and edited by an
RFC 2136 update without any socket involved.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.SOA
import dns.rrset

RRKey = tuple[dns.name.Name, dns.rdatatype.RdataType]


@dataclass(frozen=True)
class ZoneAnswer:
    """What a zone says about a question: the rcode and the sections to send back."""

    rcode: dns.rcode.Rcode
    answer: tuple[dns.rrset.RRset, ...] = ()
    authority: tuple[dns.rrset.RRset, ...] = ()


@dataclass
class LabZone:
    """One zone's records; `generation` rises on every change so caches of rendered answers can expire."""

    origin: dns.name.Name
    rrsets: dict[RRKey, dns.rrset.RRset] = field(default_factory=dict)
    generation: int = 0

    @classmethod
    def build(
        cls,
        origin: str,
        *,
        mx: Sequence[tuple[int, str]] = (),
        mx_ttl: int = 3600,
        ns: Sequence[str] = ("ns1",),
        addresses: Mapping[str, str | Sequence[str]] | None = None,
        serial: int = 1,
        ttl: int = 3600,
        refresh: int = 3600,
        minimum: int = 300,
    ) -> LabZone:
        """A zone from Python data; names are relative to the origin unless they end with a dot.

        `addresses` maps a name to IPv4 and/or IPv6 addresses (A and AAAA records).
        """
        zone = cls(dns.name.from_text(origin))
        soa = f"{ns[0] if ns else 'ns1'} hostmaster {serial} {refresh} 60 86400 {minimum}"
        zone.put("@", "SOA", ttl, [soa])
        if ns:
            zone.put("@", "NS", ttl, list(ns))
        if mx:
            zone.put("@", "MX", mx_ttl, [f"{pref} {host}" for pref, host in mx])
        for name, values in (addresses or {}).items():
            items = [values] if isinstance(values, str) else list(values)
            v4 = [a for a in items if ":" not in a]
            v6 = [a for a in items if ":" in a]
            if v4:
                zone.put(name, "A", ttl, v4)
            if v6:
                zone.put(name, "AAAA", ttl, v6)
        return zone

    def name(self, text: str) -> dns.name.Name:
        return dns.name.from_text(text, origin=self.origin)

    def put(self, owner: str, rdtype: str, ttl: int, values: Iterable[str]) -> None:
        """Replace one RRset (the serial is not touched; see `bump_serial`)."""
        name = self.name(owner)
        kind = dns.rdatatype.from_text(rdtype)
        rdatas = [dns.rdata.from_text(dns.rdataclass.IN, kind, v, origin=self.origin, relativize=False) for v in values]
        self.rrsets[(name, kind)] = dns.rrset.from_rdata_list(name, ttl, rdatas)
        self.generation += 1

    def delete(self, name: dns.name.Name, rdtype: dns.rdatatype.RdataType) -> None:
        if self.rrsets.pop((name, rdtype), None) is not None:
            self.generation += 1

    def set_mx(self, records: Sequence[tuple[int, str]], ttl: int, owner: str = "@") -> int:
        """Replace the MX RRset and bump the serial, as an operator's DNS panel would; the new serial."""
        self.put(owner, "MX", ttl, [f"{pref} {host}" for pref, host in records])
        return self.bump_serial()

    @property
    def soa(self) -> dns.rdtypes.ANY.SOA.SOA:
        rdata = self.rrsets[(self.origin, dns.rdatatype.SOA)][0]
        assert isinstance(rdata, dns.rdtypes.ANY.SOA.SOA)
        return rdata

    @property
    def serial(self) -> int:
        return int(self.soa.serial)

    def bump_serial(self) -> int:
        key = (self.origin, dns.rdatatype.SOA)
        old = self.rrsets[key]
        soa = self.soa.replace(serial=(self.serial + 1) % 2**32)
        self.rrsets[key] = dns.rrset.from_rdata_list(self.origin, old.ttl, [soa])
        self.generation += 1
        return self.serial

    def contains(self, name: dns.name.Name) -> bool:
        return name.is_subdomain(self.origin)

    def answer(self, qname: dns.name.Name, rdtype: dns.rdatatype.RdataType) -> ZoneAnswer:
        """The authoritative answer: the RRset, NODATA with the SOA, or NXDOMAIN with the SOA."""
        soa = self.rrsets[(self.origin, dns.rdatatype.SOA)]
        negative = dns.rrset.from_rdata_list(self.origin, min(soa.ttl, self.soa.minimum), list(soa))
        found = self.rrsets.get((qname, rdtype))
        if found is not None:
            return ZoneAnswer(dns.rcode.NOERROR, answer=(found,))
        exists = any(name == qname or name.is_subdomain(qname) for name, _ in self.rrsets)
        if exists:
            return ZoneAnswer(dns.rcode.NOERROR, authority=(negative,))
        return ZoneAnswer(dns.rcode.NXDOMAIN, authority=(negative,))

    def copy(self) -> LabZone:
        """An independent copy, as a secondary holds after a zone transfer."""
        return LabZone(self.origin, copy.deepcopy(self.rrsets), self.generation + 1)
