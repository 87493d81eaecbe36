"""Against a real PowerDNS and its HTTP API, through dns-lexicon's powerdns provider: the MX flips and is read
back by DNS from the same server; a wrong key, a rejected record, rate limits, silence and cancellation
each give their own outcome, and no secret ever shows in a message, a repr or a log record."""

from __future__ import annotations

import asyncio
import logging

import dns.message
import dns.query
import pytest

from cockpit.dns.lexicon_editor import LexiconEditor, ProviderWait
from cockpit.dns.mx_rrset import (
    MxChangeTimeout,
    MxRrsetEditor,
    PartialMxChange,
    ProviderCredentialError,
    ProviderRateLimited,
    ZoneMx,
)
from cockpit.dns.observation import MxEntry, Observation, Pair, Server, Status
from cockpit.dns.query import DirectQuerier
from cockpit.dns.watcher import DnsWatcher
from cockpit.lab.pdns_server import PowerDnsServer
from cockpit.plan.secret_values import SecretValue
from cockpit.plan.values import MxRecord
from tests.integration.dns.conftest import PDNS_ZONE
from tests.integration.dns.http_front import HttpFront

STATES = {"old": (MxRecord("mail.old-host.net.", 10),), "new": (MxRecord("mail.new-host.net.", 10),)}


def editor(url: str, key: str, **kwargs: object) -> LexiconEditor:
    return LexiconEditor("powerdns", {"auth_token": SecretValue(key, "test"), "pdns_server": url}, **kwargs)  # type: ignore[arg-type]


async def by_dns(pdns: PowerDnsServer) -> Observation:
    querier = DirectQuerier(timeout=2)
    try:
        return await querier.observe(Pair(PDNS_ZONE, Server(pdns.address, pdns.dns_port, "pdns")))
    finally:
        await querier.close()


async def test_flip_through_the_api_and_read_it_back_by_dns(pdns: PowerDnsServer) -> None:
    pair = Pair(PDNS_ZONE, Server(pdns.address, pdns.dns_port, "pdns", label="pdns"))
    watcher = DnsWatcher([pair], states=STATES, timeout=2)
    change_to: MxRrsetEditor = editor(pdns.api_url, pdns.api_key)
    try:
        before = await watcher.poll_round()
        assert before.converged("old")
        assert before.pairs[0].observation.nsid == pdns.server_id

        change = await change_to.replace_mx(PDNS_ZONE, [(10, "mail.new-host.net.")], 300)
        assert change.before == (ZoneMx(10, "mail.old-host.net."),)
        assert change.after == (ZoneMx(10, "mail.new-host.net."),)
        assert change.ttl == 300 and "→ 10 mail.new-host.net." in change.message

        after = await watcher.poll_round()
        served = after.pairs[0].observation
        assert after.converged("new")
        assert (served.mx, served.ttl) == ((MxEntry(10, "mail.new-host.net."),), 300)
        assert served.serial is not None and served.serial > 100, "the API change raised the serial"

        listed = await change_to.list_mx(PDNS_ZONE)
        assert (listed.records, listed.ttl) == (change.after, 300)
    finally:
        await watcher.close()


async def test_wrong_api_key_is_one_clear_line_and_nothing_changes(pdns: PowerDnsServer) -> None:
    wrong = "not-the-key-" + pdns.api_key[:6]
    with pytest.raises(ProviderCredentialError) as caught:
        await editor(pdns.api_url, wrong).replace_mx(PDNS_ZONE, [(10, "mail.new-host.net.")], 300)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("powerdns rejected the credentials (HTTP 401")
    assert "check auth_token" in message and message.endswith("nothing was changed")
    assert caught.value.changed is False
    assert wrong not in message and pdns.api_key not in message
    served = await by_dns(pdns)
    assert (served.mx, served.serial) == ((MxEntry(10, "mail.old-host.net."),), 100)


async def test_a_rejected_add_after_a_ttl_change_emptied_the_set_says_what_the_zone_holds(
    pdns: PowerDnsServer,
) -> None:
    # A new TTL: every record is deleted first; the add of the underscore host (HTTP 422) fails after the
    # first new record is in.
    records = [(10, "mail.new-host.net."), (20, "mail_backup.new-host.net.")]
    with pytest.raises(PartialMxChange) as caught:
        await editor(pdns.api_url, pdns.api_key).replace_mx(PDNS_ZONE, records, 300)
    error = caught.value
    assert error.changed is True
    assert error.holds == (ZoneMx(10, "mail.new-host.net."),)
    assert "HTTP 422" in error.message and "mail_backup.new-host.net." in error.message
    assert "deleting MX 10 mail.old-host.net." in error.message
    assert "example.test now holds 10 mail.new-host.net. (read back through the API)" in error.message
    served = await by_dns(pdns)
    assert served.mx == (MxEntry(10, "mail.new-host.net."),)


async def test_a_rejected_add_says_what_the_zone_holds_and_the_old_mx_stays(pdns: PowerDnsServer) -> None:
    # PowerDNS refuses an MX host with an underscore (HTTP 422) — after the first new record is in; the old
    # one is deleted only after every new one is in, so it still serves.
    records = [(10, "mail.new-host.net."), (20, "mail_backup.new-host.net.")]
    with pytest.raises(PartialMxChange) as caught:
        await editor(pdns.api_url, pdns.api_key).replace_mx(PDNS_ZONE, records, 3600)
    error = caught.value
    assert error.changed is True
    assert set(error.holds or ()) == {ZoneMx(10, "mail.old-host.net."), ZoneMx(10, "mail.new-host.net.")}
    assert "HTTP 422" in error.message and "mail_backup.new-host.net." in error.message
    assert "adding MX 10 mail.new-host.net. went through" in error.message
    assert "(read back through the API)" in error.message
    served = await by_dns(pdns)
    assert set(served.mx) == {MxEntry(10, "mail.old-host.net."), MxEntry(10, "mail.new-host.net.")}


def served_mx(pdns: PowerDnsServer) -> tuple[str, ...]:
    """The MX records PowerDNS serves now, as text (its caches are off: this is the zone as it is)."""
    query = dns.message.make_query(f"{PDNS_ZONE}.", "MX")
    answer = dns.query.udp(query, pdns.address, port=pdns.dns_port, timeout=2)
    return tuple(sorted(f"{rr.preference} {rr.exchange}" for rrset in answer.answer for rr in rrset))


async def test_the_zone_never_lacks_an_mx_between_the_calls_of_a_change(pdns: PowerDnsServer, front: HttpFront) -> None:
    # With no MX at all, a sender delivers to the domain's own address (RFC 5321 5.1): the new records go in
    # before the old ones go out. A TTL change cannot avoid the moment (PowerDNS, like most, keeps one TTL per
    # record set): it is measured and said.
    between: list[tuple[str, tuple[str, ...]]] = []
    front.after_change = lambda call: between.append((call, served_mx(pdns)))
    change_to = editor(front.url, pdns.api_key)
    two = [(10, "mail.new-host.net."), (20, "backup.new-host.net.")]
    change = await change_to.replace_mx(PDNS_ZONE, two, 3600)
    assert set(change.after) == {ZoneMx(10, "mail.new-host.net."), ZoneMx(20, "backup.new-host.net.")}
    assert [mx for _, mx in between] == [
        ("10 mail.new-host.net.", "10 mail.old-host.net."),
        ("10 mail.new-host.net.", "10 mail.old-host.net.", "20 backup.new-host.net."),
        ("10 mail.new-host.net.", "20 backup.new-host.net."),
    ]
    assert "no MX" not in change.message

    between.clear()
    lowered = await change_to.replace_mx(PDNS_ZONE, two, 300)
    assert (set(lowered.after), lowered.ttl) == (set(change.after), 300)
    assert [len(mx) for _, mx in between] == [1, 0, 1, 2], between
    assert "; the zone had no MX for " in lowered.message and "(a new TTL, or a new preference" in lowered.message

    between.clear()
    unchanged = await change_to.replace_mx(PDNS_ZONE, two, 300)
    assert unchanged.after == lowered.after and between == [], "nothing to change: no call that changes"
    assert served_mx(pdns) == ("10 mail.new-host.net.", "20 backup.new-host.net.")

    between.clear()  # a host's new preference: its record out and in again, one host at a time
    swapped = await change_to.replace_mx(PDNS_ZONE, [(20, "mail.new-host.net."), (10, "backup.new-host.net.")], 300)
    assert set(swapped.after) == {ZoneMx(20, "mail.new-host.net."), ZoneMx(10, "backup.new-host.net.")}
    assert [len(mx) for _, mx in between] == [1, 2, 1, 2], between
    assert "no MX" not in swapped.message


async def test_http_429_waits_as_retry_after_asks_and_reports_each_wait(pdns: PowerDnsServer, front: HttpFront) -> None:
    front.rate_limited, front.retry_after = 1, "1"
    waits: list[ProviderWait] = []
    change = await editor(front.url, pdns.api_key, on_wait=waits.append).replace_mx(
        PDNS_ZONE, [(10, "mail.new-host.net.")], 300
    )
    assert change.after == (ZoneMx(10, "mail.new-host.net."),)
    assert waits == [ProviderWait("powerdns", "signing in", 2, 6, 1.0, True)]
    assert "rate limited (HTTP 429) while signing in; waiting 1 s (as its Retry-After asks)" in str(waits[0])


async def test_a_retry_after_beyond_the_deadline_fails_at_once(pdns: PowerDnsServer, front: HttpFront) -> None:
    front.rate_limited, front.retry_after = 100, "3600"
    waits: list[ProviderWait] = []
    with pytest.raises(ProviderRateLimited) as caught:
        await editor(front.url, pdns.api_key, on_wait=waits.append).replace_mx(PDNS_ZONE, [(10, "x.example.")], 300)
    assert "asks to wait 1h" in caught.value.message and caught.value.changed is False
    assert waits == [] and len(front.seen) == 1


async def test_a_silent_api_times_out_and_a_cancelled_call_returns_at_once(
    pdns: PowerDnsServer, front: HttpFront
) -> None:
    front.silent = True
    with pytest.raises(MxChangeTimeout) as caught:
        await editor(front.url, pdns.api_key, timeout=0.5).replace_mx(PDNS_ZONE, [(10, "x.example.")], 300)
    assert caught.value.message == (
        "powerdns: no answer from the API within 0.5 s while signing in; nothing was changed"
    )
    assert caught.value.changed is False

    front.arrived.clear()
    task = asyncio.create_task(editor(front.url, pdns.api_key, timeout=600).list_mx(PDNS_ZONE))
    assert await asyncio.to_thread(front.arrived.wait, 10)
    task.cancel()
    async with asyncio.timeout(5):  # a guard against a hang, not a timing assertion
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_no_secret_in_messages_reprs_or_logs(pdns: PowerDnsServer, caplog: pytest.LogCaptureFixture) -> None:
    # The API URL itself is a secret here, with a token in its path, as some hosts hand them out: requests
    # quotes URLs in its exceptions and urllib3 logs request lines.
    token = "t0ken-9f8e7d6c5b4a"
    secret_front = HttpFront(pdns.api_url, prefix=f"/{token}")
    secret_front.start()
    caplog.set_level(logging.DEBUG)
    options = {"auth_token": SecretValue(pdns.api_key, "test"), "pdns_server": SecretValue(secret_front.url, "test")}
    texts: list[str] = []
    try:
        good = LexiconEditor("powerdns", options)
        texts.append(repr(good))
        texts.append(str(await good.list_mx(PDNS_ZONE)))
        texts.append(str(await good.replace_mx(PDNS_ZONE, [(10, "mail.new-host.net.")], 300)))
        wrong = LexiconEditor("powerdns", {**options, "auth_token": SecretValue(pdns.api_key[::-1], "test")})
        with pytest.raises(ProviderCredentialError) as rejected:
            await wrong.list_mx(PDNS_ZONE)
        texts += [str(rejected.value), repr(rejected.value)]
    finally:
        secret_front.stop()
    with pytest.raises(Exception) as unreachable:
        await good.list_mx(PDNS_ZONE)
    texts += [str(unreachable.value), repr(unreachable.value)]
    assert "cannot reach the API: connection refused" in str(unreachable.value)
    logged = caplog.text
    assert "<redacted>" in logged, "urllib3 logged the request line, with the token scrubbed"
    for secret in (token, pdns.api_key, pdns.api_key[::-1]):
        assert secret not in logged
        for text in texts:
            assert secret not in str(text)
    assert unreachable.value.__cause__ is None and unreachable.value.__context__ is None


async def test_status_of_a_zone_the_api_does_not_have(pdns: PowerDnsServer) -> None:
    with pytest.raises(Exception) as caught:
        await editor(pdns.api_url, pdns.api_key).list_mx("missing.test")
    assert "HTTP 404" in str(caught.value) and "nothing was changed" in str(caught.value)
    assert (await by_dns(pdns)).status is Status.OK
