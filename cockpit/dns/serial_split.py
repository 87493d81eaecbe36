"""The addresses of one nameserver name side by side: their SOA serials should agree, and when they do not,
one address (an anycast node, a forgotten old server still in the A records) serves another zone version.

Each address is its own watched pair; this groups them back by name so the difference shows.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from cockpit.dns.observation import Observation


@dataclass(frozen=True, slots=True)
class NameSerials:
    """One domain on one nameserver name: the SOA serial each of its addresses served in a round."""

    domain: str
    name: str
    """The nameserver's name without the trailing dot, or its label when it was given by address only."""
    port: int
    serials: tuple[tuple[str, int | None], ...]
    """(address, serial) per address, IPv4 first then by address; None where the serial could not be read."""
    nsids: tuple[tuple[str, str | None], ...] = ()
    """(address, NSID) per address, to tell anycast nodes apart."""

    @property
    def split(self) -> bool:
        """Two addresses of the name served different serials (unread serials are not counted)."""
        return len({serial for _, serial in self.serials if serial is not None}) > 1

    def __str__(self) -> str:
        parts = ", ".join(f"{serial if serial is not None else '?'} at {address}" for address, serial in self.serials)
        return f"{self.domain} @{self.name}: serial {parts}"


def serials_by_name(observations: Iterable[Observation]) -> list[NameSerials]:
    """Observations grouped by (domain, nameserver name, port), in first-seen order."""
    groups: dict[tuple[str, str, int], list[Observation]] = {}
    for observation in observations:
        server = observation.server
        name = server.name.rstrip(".").lower() if server.name else server.label
        groups.setdefault((observation.domain, name, server.port), []).append(observation)
    for members in groups.values():
        members.sort(key=lambda o: (o.server.family_v6, ipaddress.ip_address(o.server.address)))
    return [
        NameSerials(
            domain,
            name,
            port,
            tuple((o.server.address, o.serial) for o in members),
            tuple((o.server.address, o.nsid) for o in members),
        )
        for (domain, name, port), members in groups.items()
    ]


def serial_splits(observations: Iterable[Observation]) -> list[NameSerials]:
    """Only the names whose addresses disagree on the serial."""
    return [group for group in serials_by_name(observations) if group.split]
