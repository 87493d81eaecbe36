"""Every status an observation can have, each produced by a real answer (or silence) from the lab server."""

from __future__ import annotations

import asyncio
import socket

import dns.flags
import dns.message
import dns.rdatatype
import dns.rrset
import pytest

from cockpit.dns.observation import MxEntry, Pair, Server, Status
from cockpit.dns.query import DirectQuerier
from cockpit.lab.nameserver import Behaviour, LabNameserver
from tests.unit.dns.conftest import pair


@pytest.fixture
async def querier():
    q = DirectQuerier(timeout=0.5, concurrency=8)
    yield q
    await q.close()


async def test_ok_answer_carries_mx_ttl_serial_aa_rtt(lab: LabNameserver, querier: DirectQuerier) -> None:
    obs = await querier.observe(pair("example.com", lab))
    assert obs.status is Status.OK
    assert obs.mx == (MxEntry(10, "mail.old-host.net."),)
    assert obs.ttl == 3600
    assert obs.serial == 1
    assert obs.aa is True
    assert obs.rtt is not None and obs.rtt > 0
    assert obs.tcp is False
    assert obs.status.authoritative


async def test_questions_have_no_rd_bit_and_edns_1232(lab: LabNameserver, querier: DirectQuerier) -> None:
    await querier.observe(pair("example.com", lab))
    questions = [dns.message.from_wire(wire) for wire, _ in lab.received]
    assert [q.question[0].rdtype for q in questions] == [15, 6]  # MX and SOA, sent in that order
    for q in questions:
        assert not q.flags & dns.flags.RD
        assert q.edns == 0 and q.payload == 1232


async def test_mx_and_soa_are_asked_together(lab: LabNameserver) -> None:
    """One round trip per pair: the SOA question leaves with the MX question, not after its answer. The server
    here never answers in time, yet it received both."""
    lab.set_delay(5.0)
    q = DirectQuerier(timeout=0.3)
    try:
        obs = await q.observe(pair("example.com", lab))
    finally:
        await q.close()
    assert obs.status is Status.TIMEOUT and obs.rtt is None
    assert obs.detail == "no answer within 0.3s (asked 3 times)"
    questions = [dns.message.from_wire(wire) for wire, _ in lab.received]
    assert [q.question[0].rdtype for q in questions[:2]] == [15, 6], "both before any answer could come"
    assert sorted(q.question[0].rdtype for q in questions) == [6, 6, 6, 15, 15, 15], "each asked three times"
    assert len({q.id for q in questions if q.question[0].rdtype == 15}) == 1, "again with the same ID"


async def test_a_lost_question_is_asked_again_and_answered(lab: LabNameserver) -> None:
    """The server drops the first MX and the first SOA question (a datagram lost on the way); the second try,
    a third of the timeout later, is answered, and the pair is OK with its serial instead of a timeout."""
    lab.behave(Behaviour.DROP_FIRST, "example.com")
    q = DirectQuerier(timeout=0.9)
    try:
        obs = await q.observe(pair("example.com", lab))
        other = await q.observe(pair("example.org", lab))
    finally:
        await q.close()
    assert obs.status is Status.OK and obs.serial == 1, obs.detail
    assert other.status is Status.OK
    names = [dns.message.from_wire(wire).question[0] for wire, _ in lab.received]
    assert sum(1 for question in names if question.name.to_text() == "example.com.") == 4
    assert sum(1 for question in names if question.name.to_text() == "example.org.") == 2, "other zones: once"


async def test_a_late_soa_answer_leaves_the_observation_without_serial(lab: LabNameserver) -> None:
    """The MX answered, the SOA did not within the timeout: the observation keeps the MX and says why the
    serial is missing."""
    q = DirectQuerier(timeout=0.3)
    lab.set_delay(0.0)
    original = lab.respond

    def slow_soa(wire: bytes, tcp: bool) -> tuple[bytes | None, float]:
        answer, delay = original(wire, tcp)
        is_soa = dns.message.from_wire(wire).question[0].rdtype == 6
        return answer, (5.0 if is_soa else delay)

    lab.respond = slow_soa  # type: ignore[method-assign]
    try:
        obs = await q.observe(pair("example.com", lab))
    finally:
        await q.close()
    assert obs.status is Status.OK and obs.serial is None
    assert obs.mx == (MxEntry(10, "mail.old-host.net."),)
    assert obs.detail == "no SOA serial: no answer within 0.3s (asked 3 times)"


async def test_nodata_when_the_name_has_no_mx(lab: LabNameserver, querier: DirectQuerier) -> None:
    obs = await querier.observe(pair("nomx.example", lab))
    assert obs.status is Status.NODATA
    assert obs.mx == () and obs.serial == 1 and obs.ttl == 300
    assert obs.status.authoritative


async def test_nxdomain(lab: LabNameserver, querier: DirectQuerier) -> None:
    obs = await querier.observe(pair("missing.example.com", lab))
    assert obs.status is Status.NXDOMAIN
    assert "does not exist" in obs.detail


@pytest.mark.parametrize(
    ("behaviour", "status"),
    [
        (Behaviour.SERVFAIL, Status.SERVFAIL),
        (Behaviour.REFUSED, Status.REFUSED),
        (Behaviour.NO_AA, Status.LAME),
        (Behaviour.GARBAGE, Status.MALFORMED),
        (Behaviour.SILENT, Status.TIMEOUT),
    ],
)
async def test_failure_statuses(
    lab: LabNameserver, querier: DirectQuerier, behaviour: Behaviour, status: Status
) -> None:
    lab.behave(behaviour, "example.com")
    obs = await querier.observe(pair("example.com", lab))
    assert obs.status is status
    assert obs.mx == () and obs.detail
    assert not obs.status.authoritative
    other = await querier.observe(pair("example.org", lab))
    assert other.status is Status.OK, "a behaviour set for one zone leaves the others alone"


async def test_a_zone_the_server_does_not_serve_is_refused(lab: LabNameserver, querier: DirectQuerier) -> None:
    obs = await querier.observe(pair("elsewhere.net", lab))
    assert obs.status is Status.REFUSED


async def test_truncated_answer_is_retried_over_tcp(lab: LabNameserver, querier: DirectQuerier) -> None:
    lab.behave(Behaviour.TRUNCATE)
    obs = await querier.observe(pair("example.com", lab))
    assert obs.status is Status.OK and obs.tcp is True
    assert obs.mx == (MxEntry(10, "mail.old-host.net."),)
    assert [tcp for _, tcp in lab.received] == [False, False, True, True]  # MX and SOA over UDP, then both over TCP


async def test_truncated_answer_is_never_used_when_tcp_fails(querier: DirectQuerier) -> None:
    """A UDP-only server that truncates: the TCP retry finds nothing listening and the status says so."""

    class TruncatingUdp(asyncio.DatagramProtocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = transport

        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            response = dns.message.make_response(dns.message.from_wire(data))
            response.flags |= dns.flags.TC | dns.flags.AA
            self.transport.sendto(response.to_wire(), addr)  # type: ignore[attr-defined]

    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(TruncatingUdp, local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    try:
        obs = await querier.observe(Pair("example.com", Server("127.0.0.1", port)))
    finally:
        transport.close()
    assert obs.status is Status.NETWORK_ERROR
    assert obs.mx == ()


async def test_network_error_when_nothing_listens(querier: DirectQuerier) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    obs = await querier.observe(Pair("example.com", Server("127.0.0.1", port)))
    assert obs.status is Status.NETWORK_ERROR
    assert "refused" in obs.detail


async def test_serial_comes_from_the_same_server(
    lab: LabNameserver, lab2: LabNameserver, querier: DirectQuerier
) -> None:
    a, b = await asyncio.gather(querier.observe(pair("example.com", lab)), querier.observe(pair("example.com", lab2)))
    assert (a.serial, b.serial) == (1, 7)


async def test_observed_at_comes_from_the_injected_clock(lab: LabNameserver) -> None:
    class Frozen:
        def now(self) -> float:
            return 1234.5

        def monotonic(self) -> float:
            return 0.0

        async def sleep(self, seconds: float) -> None:
            await asyncio.sleep(0)

    q = DirectQuerier(timeout=1, clock=Frozen())
    try:
        obs = await q.observe(pair("example.com", lab))
    finally:
        await q.close()
    assert obs.observed_at == 1234.5


async def test_one_question_in_flight_per_pair(lab: LabNameserver, querier: DirectQuerier) -> None:
    lab.set_delay(0.1)
    target = pair("example.com", lab)
    first, second = await asyncio.gather(querier.observe(target), querier.observe(target))
    assert first is second
    assert len(lab.received) == 2, "one MX and one SOA question, not two of each"


async def test_concurrency_is_bounded(lab: LabNameserver) -> None:
    lab.set_delay(0.05)
    q = DirectQuerier(timeout=2, concurrency=3)
    try:
        domains = ["example.com", "example.org", "nomx.example", "a.example.com", "b.example.com", "c.example.com"]
        observations = await q.observe_all([pair(d, lab) for d in domains])
    finally:
        await q.close()
    assert len(observations) == 6
    assert 2 <= lab.peak_pending <= 6, "3 pairs at once, each with its MX and SOA question"


async def test_delay_and_timeout_are_independent_per_zone(lab: LabNameserver, querier: DirectQuerier) -> None:
    lab.set_delay(2.0, "example.org")
    slow, fast = await asyncio.gather(
        querier.observe(pair("example.org", lab)), querier.observe(pair("example.com", lab))
    )
    assert slow.status is Status.TIMEOUT
    assert fast.status is Status.OK


async def test_ipv6_loopback(querier: DirectQuerier) -> None:
    from tests.unit.dns.conftest import zones

    try:
        ns = LabNameserver(zones(), host="::1")
        await ns.start()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    try:
        obs = await querier.observe(Pair("example.com", Server("::1", ns.port)))
    finally:
        await ns.stop()
    assert obs.status is Status.OK and obs.server.family_v6


class _StrayFirst(asyncio.DatagramProtocol):
    """Answers each question twice: first a datagram with the question's ID that answers another name (a late
    answer to an earlier question that had the same ID, as a second try can cause), then the real answer."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        query = dns.message.from_wire(data)
        question = query.question[0]
        stray = dns.message.make_query("other.example.", question.rdtype, id=query.id)
        stray_answer = dns.message.make_response(stray)
        stray_answer.flags |= dns.flags.AA
        real = dns.message.make_response(query)
        real.flags |= dns.flags.AA
        if question.rdtype == dns.rdatatype.MX:
            real.answer.append(dns.rrset.from_text(question.name, 300, "IN", "MX", "10 mail.example.net."))
        else:
            real.answer.append(dns.rrset.from_text(question.name, 300, "IN", "SOA", "ns. host. 9 3600 600 86400 300"))
        assert self.transport is not None
        self.transport.sendto(stray_answer.to_wire(), addr)
        self.transport.sendto(real.to_wire(), addr)


async def test_a_stray_answer_with_our_id_is_not_taken_for_the_answer() -> None:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(_StrayFirst, local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    q = DirectQuerier(timeout=2)
    try:
        obs = await q.observe(Pair("example.com", Server("127.0.0.1", port)))
    finally:
        await q.close()
        transport.close()
    assert obs.status is Status.OK, obs.detail
    assert obs.mx == (MxEntry(10, "mail.example.net."),) and obs.serial == 9
