"""The MX RRset editor for a primary that takes RFC 2136 updates: `update_mx` does the change (one atomic
TSIG-signed message), and the RRset is read before and after by DNS over TCP from that same primary.
"""

from __future__ import annotations

from collections.abc import Sequence

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rdtypes.ANY.MX

from cockpit.dns.mx_rrset import MxChange, MxChangeError, MxRrset, MxRrsetEditor, ZoneMx, mx_text, normal_request
from cockpit.dns.tsig_key import TsigKey
from cockpit.dns.update import update_mx
from cockpit.plan.values import MxRecord

UNKNOWN_OUTCOMES = frozenset({"TIMEOUT", "NETWORK", "MALFORMED"})
"""update_mx outcomes after which the update may have been applied: no answer was read."""


class Rfc2136Editor:
    """Replaces MX RRsets on one primary by RFC 2136, signed with a TSIG key (or unsigned when None)."""

    def __init__(
        self, address: str, port: int = 53, *, key: TsigKey | None, timeout: float = 10.0, label: str | None = None
    ) -> None:
        self.address = address
        self.port = port
        self.key = key
        self.timeout = timeout
        where = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
        self._label = label or f"{where} (RFC 2136 primary)"

    @property
    def label(self) -> str:
        return self._label

    def __repr__(self) -> str:
        return f"Rfc2136Editor({self._label!r}, key={self.key!r})"

    async def list_mx(self, zone: str, domain: str | None = None) -> MxRrset:
        """The MX RRset as the primary serves it over TCP; MxChangeError (nothing changed) when it cannot."""
        zone_name = zone.rstrip(".").lower()
        domain_name = (domain or zone).rstrip(".").lower()
        query = dns.message.make_query(domain_name + ".", dns.rdatatype.MX, flags=0)
        try:
            response = await dns.asyncquery.tcp(query, self.address, timeout=self.timeout, port=self.port)
        except dns.exception.Timeout:
            raise MxChangeError(f"{self.label}: no answer within {self.timeout:g}s", changed=False) from None
        except (OSError, EOFError) as exc:
            reason = exc.strerror.lower() if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
            raise MxChangeError(f"{self.label}: cannot ask for the MX over TCP: {reason}", changed=False) from None
        except dns.exception.DNSException as exc:
            raise MxChangeError(f"{self.label}: unreadable answer ({type(exc).__name__})", changed=False) from None
        rcode = response.rcode()
        if rcode != dns.rcode.NOERROR or not response.flags & dns.flags.AA:
            why = dns.rcode.to_text(rcode) if rcode != dns.rcode.NOERROR else "not authoritative (no AA flag)"
            raise MxChangeError(f"{self.label}: cannot read the MX of {domain_name}: {why}", changed=False)
        records: list[ZoneMx] = []
        ttl: int | None = None
        for rrset in response.answer:
            if rrset.rdtype != dns.rdatatype.MX or rrset.name.to_text().lower() != domain_name + ".":
                continue
            ttl = rrset.ttl
            for rdata in rrset:
                assert isinstance(rdata, dns.rdtypes.ANY.MX.MX)
                records.append(ZoneMx(int(rdata.preference), rdata.exchange.to_text().lower()))
        return MxRrset(zone_name, domain_name, tuple(records), ttl, self.label)

    async def replace_mx(
        self, zone: str, records: Sequence[tuple[int, str]], ttl: int, domain: str | None = None
    ) -> MxChange:
        """One update replacing the RRset (atomic: a refused update changed nothing), then the RRset read back."""
        zone_name, domain_name, wanted = normal_request(zone, records, ttl, domain)
        before = await self.list_mx(zone_name, domain_name)
        result = await update_mx(
            address=self.address,
            port=self.port,
            domain=domain_name,
            records=[MxRecord(host, preference) for preference, host in wanted],
            ttl=ttl,
            key=self.key,
            zone=zone_name,
            timeout=self.timeout,
            server_label=self.label,
        )
        if not result.ok:
            unknown = result.outcome in UNKNOWN_OUTCOMES
            raise MxChangeError(
                result.message + ("; the update may or may not have been applied" if unknown else "; nothing changed"),
                changed=None if unknown else False,
                holds=None if unknown else before.records,
            )
        try:
            after = await self.list_mx(zone_name, domain_name)
        except MxChangeError as exc:
            raise MxChangeError(f"{result.message}; reading the MX back failed: {exc.message}", changed=True) from None
        asked = {(p, h) for p, h in wanted}
        held = {(r.preference, r.host) for r in after.records}
        if held != asked or after.ttl != ttl:
            raise MxChangeError(
                f"{self.label} accepted the update of {domain_name}, but it now serves {mx_text(after.records)} "
                f"(TTL {after.ttl}), not what was asked (TTL {ttl})",
                changed=True,
                holds=after.records,
            )
        return MxChange(
            zone_name,
            domain_name,
            before.records,
            after.records,
            after.ttl,
            self.label,
            result.message,
            result.serial_before,
            result.serial_after,
        )


def _is_an_editor(editor: Rfc2136Editor) -> MxRrsetEditor:
    """Never called: mypy checks here that Rfc2136Editor implements the MxRrsetEditor protocol."""
    return editor
