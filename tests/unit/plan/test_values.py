"""The small value languages of a plan: durations, host:port, MX records."""

from __future__ import annotations

import pytest

from cockpit.base.units import format_duration
from cockpit.plan.values import (
    HostPort,
    MxRecord,
    parse_duration,
    parse_host_port,
    parse_mx_record,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(90, 90.0), ("90", 90.0), ("90s", 90.0), ("10m", 600.0), ("1h30m", 5400.0), ("2d", 172800.0),
     ("250ms", 0.25), ("1.5s", 1.5), (" 1h 5m ", 3900.0), (0.5, 0.5)],
)  # fmt: skip
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "10x", "m10", "1h30", "-5", "1:30", "10 minutes", True, None, [1]])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_format_duration() -> None:
    assert [format_duration(s) for s in (0.0009, 0.5, 59, 90, 3600, 5430)] == [
        "1ms",
        "500ms",
        "59s",
        "1m30s",
        "1h",
        "1h30m30s",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ns3.inetu.net", HostPort("ns3.inetu.net", None)),
        ("NS3.Inetu.NET.", HostPort("ns3.inetu.net", None)),
        ("192.0.2.1", HostPort("192.0.2.1", None)),
        ("ns:5353", HostPort("ns", 5353)),
        ("192.0.2.1:53", HostPort("192.0.2.1", 53)),
        ("[2001:db8::1]:5353", HostPort("2001:db8::1", 5353)),
        ("[2001:db8::1]", HostPort("2001:db8::1", None)),
        ("2001:DB8::1", HostPort("2001:db8::1", None)),
    ],
)
def test_host_port(text: str, expected: HostPort) -> None:
    assert parse_host_port(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ns:0", "out of range"),
        ("ns:99999", "out of range"),
        ("ns:abc", "not a number"),
        ("[not-v6]:53", "not an IPv6 address"),
        ("2001:db8::zz", "not an IPv6 address"),
        ("bad host!", "not a valid host name"),
        ("", "empty"),
    ],
)
def test_bad_host_port(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_host_port(text)


def test_host_port_renders_back() -> None:
    assert [str(parse_host_port(t)) for t in ("a.b", "a.b:54", "[::1]:53")] == ["a.b", "a.b:54", "[::1]:53"]


def test_mx_records() -> None:
    assert parse_mx_record("Mail.Example.NET") == MxRecord("mail.example.net.", None)
    assert parse_mx_record("10 mail.example.net.") == MxRecord("mail.example.net.", 10)
    assert str(MxRecord("a.b.", 5)) == "5 a.b."
    for bad in ("10", "x mail.example.net", "10 a b", "70000 a.b"):
        with pytest.raises(ValueError):
            parse_mx_record(bad)


def test_the_null_mx_is_refused_with_why() -> None:
    with pytest.raises(ValueError, match=r"null MX \(RFC 7505\): senders bounce mail at once"):
        parse_mx_record("0 .")
