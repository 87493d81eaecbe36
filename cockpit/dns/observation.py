"""What one nameserver said about one domain's MX at one moment, as frozen data for the engine and the UI."""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass, field


class Status(enum.StrEnum):
    """How a nameserver answered; only OK carries an MX set, and none of them alone means "propagated"."""

    OK = "ok"
    NODATA = "nodata"
    """Authoritative answer: the name exists but has no MX."""
    NXDOMAIN = "nxdomain"
    SERVFAIL = "servfail"
    REFUSED = "refused"
    LAME = "lame"
    """Answered without the AA flag: the server is not authoritative for the domain."""
    TIMEOUT = "timeout"
    NETWORK_ERROR = "network-error"
    MALFORMED = "malformed"
    """An answer that could not be parsed, was truncated over TCP too, or answered another question."""
    BAD_SIGNATURE = "bad-signature"
    """The zone is signed but the MX answer's RRSIG is missing, expired or not yet valid: validating
    resolvers reject it, so it never counts as serving any state (the MX it carried is kept for people)."""

    @property
    def authoritative(self) -> bool:
        """The server answered for the zone (ok, nodata, nxdomain); everything else, a bad signature
        included, is a failure to watch."""
        return self in (Status.OK, Status.NODATA, Status.NXDOMAIN)


@dataclass(frozen=True, slots=True, order=True)
class MxEntry:
    """One MX record as served: preference and the exchange host (lower-case, with the trailing dot)."""

    preference: int
    host: str

    def __str__(self) -> str:
        return f"{self.preference} {self.host}"


@dataclass(frozen=True, slots=True)
class Server:
    """A nameserver address to ask directly; `name` is its NS name when known."""

    address: str
    port: int = 53
    name: str | None = None
    discovered: bool = False
    """Found through the domain's NS records rather than listed by the operator."""
    label: str = field(default="", compare=False)
    """How it is shown; derived from the name (or address) and port unless given."""

    def __post_init__(self) -> None:
        normal = ipaddress.ip_address(self.address).compressed
        if normal != self.address:
            object.__setattr__(self, "address", normal)
        if not self.label:
            base = self.name.rstrip(".") if self.name else self.address
            if self.port != 53:
                base = f"[{base}]:{self.port}" if ":" in base else f"{base}:{self.port}"
            object.__setattr__(self, "label", base)

    @property
    def family_v6(self) -> bool:
        return ":" in self.address


@dataclass(frozen=True, slots=True)
class Pair:
    """A (domain, nameserver) pair: the unit that is polled, classified and tracked."""

    domain: str
    """Lower-case, without the trailing dot."""
    server: Server
    _hash: int = field(init=False, repr=False, compare=False)
    """Computed once: a round looks pairs up in several tables, 10,000 pairs at a time."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.domain, self.server)))

    def __hash__(self) -> int:
        return self._hash

    def __str__(self) -> str:
        return f"{self.domain} @{self.server.label}"


@dataclass(frozen=True, slots=True)
class Observation:
    """One poll of one pair."""

    pair: Pair
    status: Status
    observed_at: float
    """Seconds since the epoch, from the watcher's clock, when the answer (or the failure) arrived."""
    mx: tuple[MxEntry, ...] = ()
    """Sorted; empty unless the status is OK (or BAD_SIGNATURE: what was served, though unusable)."""
    ttl: int | None = None
    """TTL of the MX RRset (OK, BAD_SIGNATURE), or of the negative answer's SOA (NODATA, NXDOMAIN)."""
    serial: int | None = None
    """SOA serial from the same server, asked together with the MX."""
    aa: bool = False
    rtt: float | None = None
    """Round-trip time of the MX question in seconds (UDP, plus TCP when the answer was truncated)."""
    tcp: bool = False
    """The UDP answer was truncated and the answer came over TCP."""
    detail: str = ""
    """Why it failed, or a note (SOA unavailable), for people."""
    nsid: str | None = None
    """The server's NSID (RFC 5001) from the MX answer: which node of an anycast address answered.
    Printable ASCII as text, anything else as hex (`0x…`); None when the server sent none."""
    rrsig_expires: float | None = None
    """Seconds since the epoch when the MX RRset's signature expires (the latest of its RRSIGs); None
    when the answer carried no RRSIG for the MX."""
    signed: bool = False
    """This poll saw the zone signed: an RRSIG on the MX or on the SOA."""

    @property
    def domain(self) -> str:
        return self.pair.domain

    @property
    def server(self) -> Server:
        return self.pair.server

    def mx_text(self) -> str:
        return ", ".join(str(entry) for entry in self.mx)
