"""The MX records a change asks for, checked before anything is sent, and the records providers list, read
whichever way they write the preference."""

from __future__ import annotations

import pytest

from cockpit.dns.lexicon_session import mx_content, zone_mx_of
from cockpit.dns.mx_rrset import ZoneMx, mx_text, normal_request


def test_a_request_is_normalised() -> None:
    zone, domain, records = normal_request(
        "Example.COM.", [(10, "Mail.Example.net"), (10, "mail.example.net.")], 300, "sub.example.com"
    )
    assert (zone, domain, records) == ("example.com", "sub.example.com", ((10, "mail.example.net."),))


@pytest.mark.parametrize(
    ("records", "ttl", "domain", "message"),
    [
        ([], 300, None, "no MX records given"),
        ([(70000, "a.example.")], 300, None, "MX preference 70000 is out of range"),
        ([(10, "a..example")], 300, None, "is not a valid host name"),
        ([(10, "a.example.")], -1, None, "TTL -1 is out of range"),
        ([(10, "a.example.")], 300, "example.org", "example.org is not inside zone example.com"),
    ],
)
def test_bad_requests_are_refused(records: list[tuple[int, str]], ttl: int, domain: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normal_request("example.com", records, ttl, domain)


def test_listed_records_in_every_shape_providers_use() -> None:
    assert zone_mx_of({"content": "10 mail.example.net."}) == ZoneMx(10, "mail.example.net.")
    assert zone_mx_of({"content": "mail.example.net", "priority": "20"}) == ZoneMx(20, "mail.example.net.")
    assert zone_mx_of({"content": "mail.example.net", "prio": 5}) == ZoneMx(5, "mail.example.net.")
    nested = {"content": "mx.example.net", "options": {"mx": {"priority": 30}}}
    assert zone_mx_of(nested) == ZoneMx(30, "mx.example.net.")
    assert zone_mx_of({"content": "mx.example.net"}) == ZoneMx(None, "mx.example.net.")
    assert zone_mx_of({"content": ""}) is None


def test_content_written_per_provider_and_texts() -> None:
    assert mx_content("powerdns", 10, "mail.example.net.") == "10 mail.example.net."
    assert mx_content("cloudflare", 10, "mail.example.net.") == "mail.example.net"
    assert ZoneMx(None, "a.example.").matches(99, "a.example.")
    assert not ZoneMx(10, "a.example.").matches(20, "a.example.")
    assert mx_text([ZoneMx(20, "b.example."), ZoneMx(10, "a.example.")]) == "10 a.example., 20 b.example."
    assert mx_text([]) == "no MX"
