"""RFC 2136 updates as the lab primary takes them: TSIG-checked, answered the way BIND answers.

Unsigned updates are REFUSED, an unknown key or a bad signature is NOTAUTH with the TSIG error (BADKEY,
BADSIG) so the client sees what a real server would say, a zone we do not serve is NOTAUTH.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import dns.exception
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.tsig
import dns.update

from cockpit.lab.dns_zone import LabZone

Keyring = Mapping[dns.name.Name, dns.tsig.Key]


def _unsigned_error(query: dns.message.Message, rcode: dns.rcode.Rcode) -> bytes:
    response = dns.message.make_response(query)
    response.set_rcode(rcode)
    return response.to_wire()


def _tsig_error(wire: bytes, error: int) -> bytes:
    """NOTAUTH carrying a TSIG error record, signed with a throw-away key (the client reads the error first)."""
    query = dns.message.from_wire(wire, keyring=False)
    response = dns.message.make_response(query)
    response.set_rcode(dns.rcode.NOTAUTH)
    if query.keyname is not None and query.keyalgorithm is not None:
        dummy = dns.tsig.Key(query.keyname, b"\x00" * 32, query.keyalgorithm)
        response.use_tsig(dummy, tsig_error=error, algorithm=query.keyalgorithm)
        response.request_mac = query.mac or b""
    return response.to_wire()


def handle_update(
    wire: bytes, zones: Mapping[dns.name.Name, LabZone], keyring: Keyring, changed: Callable[[LabZone], None]
) -> bytes:
    """Apply one update message to the zone it names; the response's wire form."""
    try:
        message = dns.message.from_wire(wire, keyring=dict(keyring))
    except dns.message.UnknownTSIGKey:
        return _tsig_error(wire, dns.rcode.BADKEY)
    except (dns.tsig.BadSignature, dns.tsig.BadKey, dns.tsig.BadAlgorithm):
        return _tsig_error(wire, dns.rcode.BADSIG)
    except dns.tsig.BadTime:
        return _tsig_error(wire, dns.rcode.BADTIME)
    assert isinstance(message, dns.update.UpdateMessage)
    if not message.had_tsig:
        return _unsigned_error(message, dns.rcode.REFUSED)
    if len(message.question) != 1:
        return _signed_error(message, dns.rcode.FORMERR)
    zone = zones.get(message.question[0].name)
    if zone is None:
        return _signed_error(message, dns.rcode.NOTAUTH)
    if message.prerequisite:
        return _signed_error(message, dns.rcode.NOTIMP)
    if any(not rrset.name.is_subdomain(zone.origin) for rrset in message.update):
        return _signed_error(message, dns.rcode.NOTZONE)
    for rrset in message.update:
        _apply(zone, rrset)
    zone.bump_serial()
    changed(zone)
    response = dns.message.make_response(message)
    return response.to_wire()


def _signed_error(message: dns.message.Message, rcode: dns.rcode.Rcode) -> bytes:
    response = dns.message.make_response(message)
    response.set_rcode(rcode)
    return response.to_wire()


def _apply(zone: LabZone, rrset: dns.rrset.RRset) -> None:
    """One update RR: class ANY deletes an RRset, class NONE deletes records, class IN adds them.

    dnspython keeps the class of a deletion in `deleting`, the zone's class in `rdclass`.
    """
    key = (rrset.name, rrset.rdtype)
    if rrset.deleting == dns.rdataclass.ANY:
        if rrset.rdtype == dns.rdatatype.ANY:
            for name, kind in [k for k in zone.rrsets if k[0] == rrset.name]:
                if kind not in (dns.rdatatype.SOA, dns.rdatatype.NS) or name != zone.origin:
                    zone.delete(name, kind)
        elif rrset.rdtype != dns.rdatatype.SOA:
            zone.delete(rrset.name, rrset.rdtype)
        return
    existing = zone.rrsets.get(key)
    if rrset.deleting == dns.rdataclass.NONE:
        if existing is not None:
            kept = [rd for rd in existing if rd not in rrset]
            zone.delete(rrset.name, rrset.rdtype)
            if kept:
                zone.rrsets[key] = dns.rrset.from_rdata_list(rrset.name, existing.ttl, kept)
        return
    merged = dns.rrset.from_rdata_list(rrset.name, rrset.ttl, [*(existing or []), *rrset])
    zone.rrsets[key] = merged
    zone.generation += 1
