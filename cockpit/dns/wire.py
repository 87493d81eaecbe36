"""A small, strict reader of DNS answers: header, question, and the records the watcher needs.

dnspython's general parser is several times slower per answer (figures in bench/README.md, "DNS polling
round"), and a round of thousands of questions would spend most of its time there. This reader keeps to
what an MX poll needs (MX, SOA, NS, CNAME and RRSIG rdata, the NSID option of the OPT record; other records
are skipped but bounds-checked), rejects anything out of bounds, looping compression pointers and trailing
bytes, and is checked against dnspython by a property test.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import dns.name

from cockpit.dns.observation import MxEntry

TYPE_NS = 2
TYPE_CNAME = 5
TYPE_SOA = 6
TYPE_MX = 15
TYPE_OPT = 41
TYPE_RRSIG = 46
OPTION_NSID = 3
CLASS_IN = 1
FLAG_QR = 0x8000
FLAG_AA = 0x0400
FLAG_TC = 0x0200

_HEADER = struct.Struct("!HHHHHH")
_RR = struct.Struct("!HHIH")
_SAFE = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_*"


class WireError(ValueError):
    """The bytes are not a well-formed DNS message."""


@dataclass(frozen=True, slots=True)
class Record:
    name: str
    """Owner name, lower-case, absolute (trailing dot)."""
    rdtype: int
    rdclass: int
    ttl: int
    mx: MxEntry | None = None
    serial: int | None = None
    """SOA records only."""
    target: str | None = None
    """NS and CNAME records: the name they point to."""
    covered: int | None = None
    """RRSIG records: the type the signature covers."""
    inception: int | None = None
    """RRSIG records: the start of the validity period, seconds since the epoch (RFC 4034 3.1.5)."""
    expiration: int | None = None
    """RRSIG records: the end of the validity period, seconds since the epoch."""


@dataclass(frozen=True, slots=True)
class Answer:
    id: int
    flags: int
    rcode: int
    qname: str | None
    qtype: int | None
    qclass: int | None
    answer: tuple[Record, ...]
    authority: tuple[Record, ...]
    nsid: bytes | None = None
    """The server's NSID option (RFC 5001) when it sent one, possibly empty."""

    @property
    def aa(self) -> bool:
        return bool(self.flags & FLAG_AA)

    @property
    def opcode(self) -> int:
        return (self.flags >> 11) & 0xF


_LABELS: dict[bytes, str] = {}
_LABELS_MAX = 50_000


def _label_text(label: bytes) -> str:
    """A label as presentation text, lower-case; escapes as dnspython does for unusual bytes."""
    text = _LABELS.get(label)
    if text is None:
        if not label.translate(None, _SAFE):
            text = label.decode("ascii").lower()
        else:
            text = dns.name.Name([label, b""]).to_text()[:-1].lower()
        if len(_LABELS) >= _LABELS_MAX:
            _LABELS.clear()
        _LABELS[label] = text
    return text


def skip_name(data: bytes, pos: int) -> int:
    """The position after the name at `pos`, checked like `read_name` but not decoded."""
    return read_name(data, pos, decode=False)[1]


def read_name(data: bytes, pos: int, decode: bool = True) -> tuple[str, int]:
    """The name at `pos` (following compression pointers) and the position after it."""
    labels: list[str] = []
    end: int | None = None
    hops = 0
    total = 1
    size = len(data)
    while True:
        if pos >= size:
            raise WireError("name runs past the end")
        length = data[pos]
        if length & 0xC0 == 0xC0:
            if pos + 1 >= size:
                raise WireError("compression pointer runs past the end")
            if end is None:
                end = pos + 2
            hops += 1
            if hops > 127:
                raise WireError("compression pointers loop")
            pos = ((length & 0x3F) << 8) | data[pos + 1]
            continue
        if length & 0xC0:
            raise WireError("unknown label type")
        if length == 0:
            pos += 1
            break
        label = data[pos + 1 : pos + 1 + length]
        if len(label) != length:
            raise WireError("label runs past the end")
        total += length + 1
        if total > 255:
            raise WireError("name longer than 255 octets")
        if decode:
            labels.append(_label_text(label))
        pos += 1 + length
    text = ".".join(labels) + "." if labels else "."
    return text, (end if end is not None else pos)


_QUESTION_POINTER = b"\xc0\x0c"


def _record(data: bytes, pos: int, qname: str | None) -> tuple[Record, int]:
    if qname is not None and data[pos : pos + 2] == _QUESTION_POINTER:
        name, pos = qname, pos + 2  # the usual owner: a pointer to the question's name, already read
    else:
        name, pos = read_name(data, pos)
    if pos + 10 > len(data):
        raise WireError("record header runs past the end")
    rdtype, rdclass, ttl, rdlength = _RR.unpack_from(data, pos)
    start = pos + 10
    stop = start + rdlength
    if stop > len(data):
        raise WireError("record data runs past the end")
    mx = serial = target = covered = inception = expiration = None
    if rdtype == TYPE_MX and rdclass == CLASS_IN:
        if rdlength < 3:
            raise WireError("MX record too short")
        host, after = read_name(data, start + 2)
        if after != stop:
            raise WireError("MX record length mismatch")
        mx = MxEntry(int.from_bytes(data[start : start + 2], "big"), host)
    elif rdtype == TYPE_SOA and rdclass == CLASS_IN:
        after = skip_name(data, skip_name(data, start))
        if after + 20 != stop:
            raise WireError("SOA record length mismatch")
        serial = int.from_bytes(data[after : after + 4], "big")
    elif rdtype in (TYPE_NS, TYPE_CNAME) and rdclass == CLASS_IN:
        target, after = read_name(data, start)
        if after != stop:
            raise WireError("NS/CNAME record length mismatch")
    elif rdtype == TYPE_RRSIG:
        if rdlength < 19:
            raise WireError("RRSIG record too short")
        covered = int.from_bytes(data[start : start + 2], "big")
        expiration, inception = struct.unpack_from("!II", data, start + 8)
        if skip_name(data, start + 18) > stop:
            raise WireError("RRSIG signer name runs past the record")
    return Record(name, rdtype, rdclass, ttl, mx, serial, target, covered, inception, expiration), stop


def _nsid(data: bytes, start: int, stop: int) -> bytes | None:
    """The NSID option's data in an OPT record's rdata (`start`..`stop`: a list of code, length, data)."""
    found = None
    while start < stop:
        if start + 4 > stop:
            raise WireError("EDNS option header runs past the record")
        code, length = struct.unpack_from("!HH", data, start)
        start += 4
        if start + length > stop:
            raise WireError("EDNS option data runs past the record")
        if code == OPTION_NSID:
            found = data[start : start + length]
        start += length
    return found


def parse_answer(data: bytes) -> Answer:
    """Parse a whole message; raise WireError on anything malformed, including trailing bytes."""
    if len(data) < 12:
        raise WireError("shorter than a DNS header")
    qid, flags, qdcount, ancount, nscount, arcount = _HEADER.unpack_from(data)
    pos = 12
    qname = qtype = qclass = None
    if qdcount > 1:
        raise WireError("more than one question")
    if qdcount == 1:
        qname, pos = read_name(data, pos)
        if pos + 4 > len(data):
            raise WireError("question runs past the end")
        qtype, qclass = struct.unpack_from("!HH", data, pos)
        pos += 4
    sections: list[list[Record]] = [[], [], []]
    rcode = flags & 0xF
    nsid = None
    for index, count in enumerate((ancount, nscount, arcount)):
        for _ in range(count):
            start = pos
            record, pos = _record(data, pos, qname)
            if record.rdtype == TYPE_OPT and index == 2:
                extended = (record.ttl >> 24) & 0xFF
                rcode |= extended << 4
                nsid = _nsid(data, skip_name(data, start) + 10, pos)
            sections[index].append(record)
    if pos != len(data):
        raise WireError(f"{len(data) - pos} trailing bytes")
    return Answer(qid, flags, rcode, qname, qtype, qclass, tuple(sections[0]), tuple(sections[1]), nsid)
