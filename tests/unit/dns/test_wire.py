"""The fast answer reader agrees with dnspython, and rejects damaged bytes with WireError only."""

from __future__ import annotations

import contextlib

import dns.flags
import dns.message
import dns.rcode
import dns.rrset
from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.dns.observation import MxEntry
from cockpit.dns.wire import WireError, parse_answer

label = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=20)
host = st.lists(label, min_size=1, max_size=4).map(lambda parts: ".".join(parts) + ".")


def _answer(qname: str, mx: list[tuple[int, str]], ttl: int, rcode: int, aa: bool, soa_serial: int | None) -> bytes:
    query = dns.message.make_query(qname, "MX", use_edns=0, payload=1232, flags=0)
    response = dns.message.make_response(query, our_payload=1232)
    response.set_rcode(dns.rcode.Rcode(rcode))
    if aa:
        response.flags |= dns.flags.AA
    if mx:
        response.answer.append(dns.rrset.from_text(qname, ttl, "IN", "MX", *[f"{p} {h}" for p, h in mx]))
    if soa_serial is not None:
        response.authority.append(
            dns.rrset.from_text(qname, 300, "IN", "SOA", f"ns1.{qname} host.{qname} {soa_serial} 1 2 3 4")
        )
    return response.to_wire()


@settings(max_examples=150, deadline=None)
@given(
    qname=host,
    mx=st.lists(st.tuples(st.integers(0, 65535), host), max_size=5, unique_by=lambda t: t),
    ttl=st.integers(0, 2**31 - 1),
    rcode=st.sampled_from([0, 2, 3, 5]),
    aa=st.booleans(),
    serial=st.one_of(st.none(), st.integers(0, 2**32 - 1)),
)
def test_agrees_with_dnspython(
    qname: str, mx: list[tuple[int, str]], ttl: int, rcode: int, aa: bool, serial: int | None
) -> None:
    wire = _answer(qname, mx, ttl, rcode, aa, serial)
    ours = parse_answer(wire)
    theirs = dns.message.from_wire(wire)
    assert ours.id == theirs.id and ours.rcode == theirs.rcode() and ours.aa == aa
    assert ours.qname == theirs.question[0].name.to_text().lower()
    got = sorted(r.mx for r in ours.answer if r.mx is not None)
    want = sorted(MxEntry(int(rd.preference), rd.exchange.to_text().lower()) for rs in theirs.answer for rd in rs)
    assert got == want
    assert all(r.ttl == ttl for r in ours.answer)
    assert [r.serial for r in ours.authority] == ([serial] if serial is not None else [])


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300))
def test_random_bytes_raise_only_wire_error(data: bytes) -> None:
    with contextlib.suppress(WireError):
        parse_answer(data)


@settings(max_examples=200, deadline=None)
@given(cut=st.integers(0, 200), flip=st.integers(0, 255), at=st.integers(0, 200))
def test_damaged_answers_raise_only_wire_error(cut: int, flip: int, at: int) -> None:
    wire = bytearray(_answer("example.com.", [(10, "mail.example.net.")], 600, 0, True, 5))
    if at < len(wire):
        wire[at] ^= flip
    with contextlib.suppress(WireError):
        parse_answer(bytes(wire[: max(cut, 0)]))


def test_compression_loop_is_rejected() -> None:
    header = bytes([0, 1, 0x84, 0, 0, 1, 0, 0, 0, 0, 0, 0])
    try:
        parse_answer(header + bytes([0xC0, 12, 0, 15, 0, 1]))
    except WireError as exc:
        assert "loop" in str(exc)
    else:
        raise AssertionError("a pointer to itself must be rejected")


def test_trailing_bytes_are_rejected() -> None:
    wire = _answer("example.com.", [(10, "mail.example.net.")], 600, 0, True, None)
    try:
        parse_answer(wire + b"\x00")
    except WireError as exc:
        assert "trailing" in str(exc)
    else:
        raise AssertionError("trailing bytes must be rejected")
