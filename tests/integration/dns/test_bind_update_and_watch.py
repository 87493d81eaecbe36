"""Against real BIND: an RFC 2136 update flips the primary, the secondary follows after a NOTIFY, and the
watcher reports both flips with their TTLs. Wrong and missing keys give their own messages."""

from __future__ import annotations

import asyncio

from cockpit.dns.events import Flip
from cockpit.dns.observation import Pair, Server, Status
from cockpit.dns.tsig_key import load_tsig_key, parse_tsig_key
from cockpit.dns.update import update_mx
from cockpit.dns.watcher import DnsWatcher
from cockpit.plan.models import Secret
from cockpit.plan.values import MxRecord
from tests.integration.dns.conftest import ZONE, BindPair

STATES = {"old": (MxRecord("mail.old-host.net."),), "new": (MxRecord("mail.new-host.net.", 10),)}
NEW = STATES["new"]


async def test_update_flips_primary_then_secondary_and_the_watcher_reports_both(bind_pair: BindPair) -> None:
    primary = Pair(ZONE, Server("127.0.0.1", bind_pair.primary.port, "primary", label="primary"))
    secondary = Pair(ZONE, Server("127.0.0.1", bind_pair.secondary.port, "secondary", label="secondary"))
    watcher = DnsWatcher([primary, secondary], states=STATES, timeout=2)
    flips: list[Flip] = []
    watcher.add_listener(lambda event: flips.append(event) if isinstance(event, Flip) else None)
    try:
        before = await watcher.poll_round()
        assert before.converged("old")
        assert {v.observation.serial for v in before.pairs} == {100}

        key = load_tsig_key(Secret(file=str(bind_pair.key_file)))
        result = await update_mx(
            address="127.0.0.1", port=bind_pair.primary.port, domain=ZONE, records=NEW, ttl=600, key=key
        )
        assert result.ok, result.message
        assert result.serial_before == 100 and result.serial_after is not None and result.serial_after > 100

        lagging = await watcher.poll_round()
        views = {v.pair.server.label: v for v in lagging.pairs}
        assert views["primary"].state == "new" and views["primary"].observation.ttl == 600
        assert views["secondary"].state == "old" and views["secondary"].observation.ttl == 3600
        assert not lagging.converged("new")
        assert views["primary"].observation.serial == result.serial_after
        assert views["secondary"].observation.serial == 100

        await bind_pair.notify_secondary()
        async with asyncio.timeout(30):
            while not (await watcher.poll_round()).converged("new"):
                await asyncio.sleep(0.2)
    finally:
        await watcher.close()

    assert [f.pair.server.label for f in flips] == ["primary", "secondary"]
    for flip in flips:
        assert (flip.before, flip.after, flip.ttl, flip.previous_ttl) == ("old", "new", 600, 3600)
    assert flips[0].at <= flips[1].at
    old = watcher.history.old_ttl("new")
    assert old.ttl == 3600 and old.since == flips[1].at


async def test_wrong_secret_is_a_bad_signature(bind_pair: BindPair) -> None:
    good = bind_pair.key_file.read_text()
    secret = good.split('secret "')[1].split('"')[0]
    wrong = parse_tsig_key(good.replace(secret, "AAAA" + secret[4:]), "file wrong.key")
    result = await update_mx(
        address="127.0.0.1", port=bind_pair.primary.port, domain=ZONE, records=NEW, ttl=600, key=wrong
    )
    assert (result.ok, result.outcome) == (False, "BADSIG"), result.message
    assert "bad signature" in result.message and secret not in result.message


async def test_unknown_key_name(bind_pair: BindPair) -> None:
    good = bind_pair.key_file.read_text()
    stranger = parse_tsig_key(good.replace("cockpit-key", "stranger"), "file stranger.key")
    result = await update_mx(
        address="127.0.0.1", port=bind_pair.primary.port, domain=ZONE, records=NEW, ttl=600, key=stranger
    )
    assert (result.ok, result.outcome) == (False, "BADKEY"), result.message


async def test_missing_key_is_refused(bind_pair: BindPair) -> None:
    result = await update_mx(
        address="127.0.0.1", port=bind_pair.primary.port, domain=ZONE, records=NEW, ttl=600, key=None
    )
    assert (result.ok, result.outcome) == (False, "REFUSED"), result.message
    assert "no key given" in result.message


async def test_secondary_refuses_updates_it_cannot_take(bind_pair: BindPair) -> None:
    key = parse_tsig_key(bind_pair.key_file.read_text(), "file tsig.key")
    result = await update_mx(
        address="127.0.0.1", port=bind_pair.secondary.port, domain=ZONE, records=NEW, ttl=600, key=key
    )
    assert not result.ok
    assert result.outcome in ("REFUSED", "NOTAUTH", "BADKEY"), result.message


async def test_watcher_sees_bind_statuses(bind_pair: BindPair) -> None:
    watcher = DnsWatcher(
        [
            Pair(ZONE, Server("127.0.0.1", bind_pair.primary.port)),
            Pair("other.test", Server("127.0.0.1", bind_pair.primary.port)),
        ],
        timeout=2,
    )
    snapshot = await watcher.poll_round()
    await watcher.close()
    statuses = [v.observation.status for v in snapshot.pairs]
    assert statuses[0] is Status.OK
    assert statuses[1] in (Status.REFUSED, Status.SERVFAIL)
