"""Signed answers and NSID, from answers dnspython writes: the reader finds the RRSIG's covered type and
validity and the NSID option, and an MX answer is OK, or bad-signature when its RRSIG is expired, not yet
valid or missing while the zone is signed elsewhere."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import cast

import dns.edns
import dns.flags
import dns.message
import dns.rdatatype
import dns.rrset
from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.dns.meaning import nsid_text, read_mx
from cockpit.dns.observation import MxEntry, Observation, Pair, Server, Status
from cockpit.dns.query import DirectQuerier, SignedZones
from cockpit.dns.wire import TYPE_MX, TYPE_RRSIG, WireError, parse_answer

PAIR = Pair("example.com", Server("127.0.0.1", 5300, label="ns"))
T2025 = 1735689600  # 2025-01-01T00:00:00Z


def _stamp(seconds: int) -> str:
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(seconds))


def signed_answer(
    inception: int | None = T2025, expiration: int | None = T2025 + 86400, nsid: bytes | None = None
) -> bytes:
    query = dns.message.make_query("example.com.", "MX", use_edns=0, payload=1232, flags=0, want_dnssec=True)
    options = [dns.edns.GenericOption(dns.edns.OptionType.NSID, nsid)] if nsid is not None else []
    response = dns.message.make_response(query, our_payload=1232)
    response.use_edns(0, dns.flags.DO, 1232, options=options)
    response.flags |= dns.flags.AA
    response.answer.append(dns.rrset.from_text("example.com.", 600, "IN", "MX", "10 mail.new-host.net."))
    if inception is not None and expiration is not None:
        rrsig = f"MX 13 2 600 {_stamp(expiration)} {_stamp(inception)} 12345 example.com. c2lnbmF0dXJl"
        response.answer.append(dns.rrset.from_text("example.com.", 600, "IN", "RRSIG", rrsig))
    return response.to_wire()


def observe(wire: bytes, now: float) -> Observation:
    return read_mx(parse_answer(wire), PAIR.domain + ".").observe(PAIR, now, 0.001, False)


@settings(max_examples=100, deadline=None)
@given(
    inception=st.integers(0, 2**32 - 1),
    expiration=st.integers(0, 2**32 - 1),
    nsid=st.binary(max_size=40),
)
def test_reader_agrees_with_dnspython_on_rrsig_and_nsid(inception: int, expiration: int, nsid: bytes) -> None:
    query = dns.message.make_query("example.com.", "MX", use_edns=0, want_dnssec=True)
    response = dns.message.make_response(query)
    response.use_edns(0, dns.flags.DO, 1232, options=[dns.edns.GenericOption(dns.edns.OptionType.NSID, nsid)])
    response.answer.append(dns.rrset.from_text("example.com.", 60, "IN", "MX", "10 a.example."))
    response.answer.append(
        dns.rrset.from_text(
            "example.com.", 60, "IN", "RRSIG", f"MX 8 2 60 {expiration} {inception} 1 example.com. AAAA"
        )
    )
    ours = parse_answer(response.to_wire())
    [sig] = [r for r in ours.answer if r.rdtype == TYPE_RRSIG]
    assert (sig.covered, sig.inception, sig.expiration) == (TYPE_MX, inception, expiration)
    assert ours.nsid == nsid


@settings(max_examples=200, deadline=None)
@given(cut=st.integers(0, 300), flip=st.integers(0, 255), at=st.integers(0, 300))
def test_damaged_signed_answers_raise_only_wire_error(cut: int, flip: int, at: int) -> None:
    wire = bytearray(signed_answer(nsid=b"anycast-node-7"))
    if at < len(wire):
        wire[at] ^= flip
    with contextlib.suppress(WireError):
        parse_answer(bytes(wire[:cut]))


def test_a_valid_signature_is_ok_with_its_expiry_and_the_nsid() -> None:
    obs = observe(signed_answer(nsid=b"fra-3"), now=T2025 + 3600)
    assert (obs.status, obs.signed, obs.nsid) == (Status.OK, True, "fra-3")
    assert obs.rrsig_expires == T2025 + 86400
    assert obs.mx == (MxEntry(10, "mail.new-host.net."),)


def test_expired_and_not_yet_valid_signatures_are_bad() -> None:
    expired = observe(signed_answer(), now=T2025 + 2 * 86400)
    assert expired.status is Status.BAD_SIGNATURE and expired.signed
    assert expired.detail == "the RRSIG on the MX expired at 2025-01-02T00:00:00Z"
    assert expired.mx == (MxEntry(10, "mail.new-host.net."),) and expired.ttl == 600
    early = observe(signed_answer(), now=T2025 - 60)
    assert early.status is Status.BAD_SIGNATURE
    assert early.detail == "the RRSIG on the MX is not valid before 2025-01-01T00:00:00Z"


def test_unsigned_answer_without_nsid() -> None:
    obs = observe(signed_answer(inception=None, expiration=None), now=T2025)
    assert (obs.status, obs.signed, obs.rrsig_expires, obs.nsid) == (Status.OK, False, None, None)


def test_nsid_text() -> None:
    assert nsid_text(b"ns1.fra") == "ns1.fra"
    assert nsid_text(b"\x00\xffA") == "0x00ff41"
    assert nsid_text(b"") is None and nsid_text(None) is None


def test_a_domain_seen_signed_makes_an_unsigned_answer_bad() -> None:
    memory = SignedZones()
    unsigned = observe(signed_answer(inception=None, expiration=None), now=T2025)
    assert memory.check(unsigned) is unsigned, "nothing seen signed yet"
    other = Pair("example.com", Server("127.0.0.2", 5300, label="ns-b"))
    signed = observe(signed_answer(), now=T2025 + 1)
    memory.check(Observation(other, Status.OK, 0.0, signed.mx, signed=True))
    bad = memory.check(unsigned)
    assert bad.status is Status.BAD_SIGNATURE
    assert bad.detail == "no RRSIG on the MX, though ns-b answered for the zone signed"
    failed = Observation(PAIR, Status.TIMEOUT, 0.0)
    assert memory.check(failed) is failed, "a failure stays what it is"


class _SignedServer(asyncio.DatagramProtocol):
    """Answers every MX question with the same signed answer and every SOA question with a signed SOA, each
    with the question's ID: the same bytes round after round, as a real signer's answers are between re-signs."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        query = dns.message.from_wire(data)
        if query.question[0].rdtype == dns.rdatatype.MX:
            wire = signed_answer()
        else:
            response = dns.message.make_response(query, our_payload=1232)
            response.flags |= dns.flags.AA
            response.answer.append(
                dns.rrset.from_text("example.com.", 600, "IN", "SOA", "ns. host. 42 3600 600 86400 300")
            )
            soa_sig = f"SOA 13 2 600 {_stamp(T2025 + 86400)} {_stamp(T2025)} 12345 example.com. c2lnbmF0dXJl"
            response.answer.append(dns.rrset.from_text("example.com.", 600, "IN", "RRSIG", soa_sig))
            wire = response.to_wire()
        assert self.transport is not None
        self.transport.sendto(data[:2] + wire[2:], addr)


class _Clock:
    def __init__(self, now: float) -> None:
        self.at = now

    def now(self) -> float:
        return self.at

    def monotonic(self) -> float:
        return 0.0

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)


async def test_the_same_signed_answer_goes_bad_when_its_signature_expires() -> None:
    """An answer whose bytes did not change is not read again, but whether its RRSIG is valid is decided anew
    at every poll: the signer that stopped re-signing shows the moment the signature runs out."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(_SignedServer, local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    clock = _Clock(T2025 + 3600)
    querier = DirectQuerier(timeout=2, clock=clock)
    target = Pair("example.com", Server("127.0.0.1", port))
    try:
        fresh = await querier.observe(target)
        clock.at = T2025 + 2 * 86400
        stale = await querier.observe(target)
    finally:
        await querier.close()
        transport.close()
    assert (fresh.status, fresh.serial, fresh.signed) == (Status.OK, 42, True)
    assert stale.status is Status.BAD_SIGNATURE and stale.serial == 42
    assert stale.detail == "the RRSIG on the MX expired at 2025-01-02T00:00:00Z"
    assert stale.mx == fresh.mx
