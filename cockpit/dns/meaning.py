"""What an MX answer and an SOA answer mean, read once and kept: the same bytes from the same server mean the
same again next round, so a round of unchanged answers reads none of them twice.

Only the signature check depends on the time: `MxMeaning.status_at(now)` decides between OK and a bad
signature from the RRSIGs' validity spans, which the meaning keeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import dns.rcode

from cockpit.dns.observation import MxEntry, Observation, Pair, Status
from cockpit.dns.wire import TYPE_CNAME, TYPE_MX, TYPE_NS, TYPE_RRSIG, TYPE_SOA, Answer


@dataclass(frozen=True, slots=True)
class MxMeaning:
    """An MX answer read: everything an Observation takes from it except the moment and the round trip."""

    status: Status
    detail: str = ""
    mx: tuple[MxEntry, ...] = ()
    ttl: int | None = None
    serial: int | None = None
    """The negative answer's SOA serial (NODATA, NXDOMAIN)."""
    aa: bool = False
    nsid: str | None = None
    rrsig_expires: float | None = None
    signed: bool = False
    spans: tuple[tuple[int, int], ...] = ()
    """(inception, expiration) of each RRSIG of the MX: whether one is valid depends on the moment asked."""

    @property
    def continues(self) -> bool:
        """The MX was served (usable or not): the SOA answer completes the observation."""
        return self.status is Status.OK

    def status_at(self, now: float) -> tuple[Status, str]:
        if not self.spans:
            return self.status, self.detail
        problem = _signature_problem(self.spans, now)
        return (Status.OK, "") if problem is None else (Status.BAD_SIGNATURE, problem)

    def observe(
        self, pair: Pair, now: float, rtt: float | None, tcp: bool, soa: SoaMeaning | str | None = None
    ) -> Observation:
        """The observation at `now`; for a served MX, `soa` completes it: the SOA answer's meaning (its
        serial, its signature) or why there is none (None: not asked)."""
        status, detail = self.status_at(now)
        serial = self.serial
        signed = self.signed
        if soa is not None and self.continues:
            if isinstance(soa, SoaMeaning) and soa.signed:
                signed = True
                if status is Status.OK and self.rrsig_expires is None:
                    status, detail = Status.BAD_SIGNATURE, "no RRSIG on the MX, though the zone's SOA is signed"
            if isinstance(soa, SoaMeaning) and soa.serial is not None:
                serial = soa.serial
            else:
                note = f"no SOA serial: {soa.problem if isinstance(soa, SoaMeaning) else soa}"
                detail = f"{detail}; {note}" if detail else note
        return Observation(
            pair,
            status,
            now,
            mx=self.mx,
            ttl=self.ttl,
            serial=serial,
            aa=self.aa,
            rtt=rtt,
            tcp=tcp,
            detail=detail,
            nsid=self.nsid,
            rrsig_expires=self.rrsig_expires,
            signed=signed,
        )


@dataclass(frozen=True, slots=True)
class SoaMeaning:
    """An SOA answer read: the serial (None with the reason in `problem`) and whether the SOA is signed."""

    serial: int | None
    signed: bool
    problem: str = ""


def read_mx(answer: Answer, qname: str) -> MxMeaning:
    """The status, MX set and TTL an MX answer means; the AA flag decides between an answer and lame,
    the RRSIGs between a usable answer and a bad signature (see `MxMeaning.status_at`)."""
    rcode = answer.rcode
    nsid = nsid_text(answer.nsid)
    aa = answer.aa
    if rcode == dns.rcode.SERVFAIL:
        return MxMeaning(Status.SERVFAIL, "the server failed (SERVFAIL)", aa=aa, nsid=nsid)
    if rcode == dns.rcode.REFUSED:
        return MxMeaning(Status.REFUSED, "the server refused the question", aa=aa, nsid=nsid)
    if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        text = dns.rcode.to_text(dns.rcode.Rcode.make(rcode))
        return MxMeaning(Status.MALFORMED, f"unexpected answer code {text}", aa=aa, nsid=nsid)
    if not aa:
        return MxMeaning(Status.LAME, _lame_detail(answer), nsid=nsid)
    negative_ttl, serial = _negative(answer)
    if rcode == dns.rcode.NXDOMAIN:
        detail = "the domain does not exist on this server"
        return MxMeaning(Status.NXDOMAIN, detail, ttl=negative_ttl, serial=serial, aa=aa, nsid=nsid)
    records = [r for r in answer.answer if r.name == qname and r.mx is not None]
    if not records:
        signed = any(r.rdtype == TYPE_RRSIG for r in answer.authority)
        detail = _nodata_detail(answer, qname)
        return MxMeaning(Status.NODATA, detail, ttl=negative_ttl, serial=serial, aa=aa, nsid=nsid, signed=signed)
    entries = tuple(sorted({r.mx for r in records if r.mx is not None}))
    ttl = min(r.ttl for r in records)
    signatures = [r for r in answer.answer if r.rdtype == TYPE_RRSIG and r.covered == TYPE_MX and r.name == qname]
    if not signatures:
        return MxMeaning(Status.OK, mx=entries, ttl=ttl, aa=aa, nsid=nsid)
    expires = float(max(r.expiration or 0 for r in signatures))
    spans = tuple((r.inception or 0, r.expiration or 0) for r in signatures)
    return MxMeaning(Status.OK, mx=entries, ttl=ttl, aa=aa, nsid=nsid, rrsig_expires=expires, signed=True, spans=spans)


def read_soa(answer: Answer) -> SoaMeaning:
    """The serial of an SOA answer; the SOA (or, below the apex, the authority section's) signed or not."""
    signed = any(r.rdtype == TYPE_RRSIG and r.covered == TYPE_SOA for r in (*answer.answer, *answer.authority))
    if answer.rcode == dns.rcode.NOERROR and answer.aa:
        for record in (*answer.answer, *answer.authority):
            if record.serial is not None:
                return SoaMeaning(record.serial, signed)
    if not answer.aa:
        return SoaMeaning(None, signed, "the SOA answer is not authoritative")
    return SoaMeaning(None, signed, f"no SOA in the answer ({dns.rcode.to_text(dns.rcode.Rcode.make(answer.rcode))})")


def nsid_text(raw: bytes | None) -> str | None:
    """An NSID as people read it: printable ASCII as it is, anything else as hex; None when empty."""
    if not raw:
        return None
    if all(0x20 <= byte < 0x7F for byte in raw):
        return raw.decode("ascii")
    return "0x" + raw.hex()


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _signature_problem(spans: tuple[tuple[int, int], ...], now: float) -> str | None:
    """Why no RRSIG of the MX is valid at `now`, or None when one is."""
    if any(start <= now <= end for start, end in spans):
        return None
    latest = max(end for _, end in spans)
    if latest < now:
        return f"the RRSIG on the MX expired at {_iso(latest)}"
    return f"the RRSIG on the MX is not valid before {_iso(min(start for start, _ in spans))}"


def _negative(answer: Answer) -> tuple[int | None, int | None]:
    for record in answer.authority:
        if record.serial is not None:
            return record.ttl, record.serial
    return None, None


def _lame_detail(answer: Answer) -> str:
    targets = sorted({r.target for r in answer.authority if r.rdtype == TYPE_NS and r.target})
    if targets:
        return f"not authoritative (no AA flag); referral to {', '.join(targets)}"
    return "not authoritative (answered without the AA flag)"


def _nodata_detail(answer: Answer, qname: str) -> str:
    for record in answer.answer:
        if record.name == qname and record.rdtype == TYPE_CNAME:
            return f"no MX: the name is an alias (CNAME {record.target})"
    return "the domain has no MX record on this server"
