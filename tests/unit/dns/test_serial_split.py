"""The addresses of one nameserver name grouped back together: differing serials show, names given by
address alone never group."""

from __future__ import annotations

from cockpit.dns.observation import Observation, Pair, Server, Status
from cockpit.dns.serial_split import serial_splits, serials_by_name


def obs(
    address: str, serial: int | None, name: str | None = "ns1.example.net.", nsid: str | None = None
) -> Observation:
    return Observation(Pair("example.com", Server(address, 53, name)), Status.OK, 0.0, serial=serial, nsid=nsid)


def test_addresses_of_one_name_that_disagree_are_a_split() -> None:
    groups = serials_by_name(
        [obs("192.0.2.1", 7, nsid="a"), obs("2001:db8::1", 6, nsid="b"), obs("192.0.2.9", 7, "ns2.example.net.")]
    )
    assert [(g.name, g.split) for g in groups] == [("ns1.example.net", True), ("ns2.example.net", False)]
    assert groups[0].serials == (("192.0.2.1", 7), ("2001:db8::1", 6))
    assert groups[0].nsids == (("192.0.2.1", "a"), ("2001:db8::1", "b"))
    assert str(groups[0]) == "example.com @ns1.example.net: serial 7 at 192.0.2.1, 6 at 2001:db8::1"


def test_unread_serials_and_unnamed_servers_are_no_split() -> None:
    assert serial_splits([obs("192.0.2.1", 7), obs("192.0.2.2", None)]) == []
    assert serial_splits([obs("192.0.2.1", 7, None), obs("192.0.2.2", 8, None)]) == []
