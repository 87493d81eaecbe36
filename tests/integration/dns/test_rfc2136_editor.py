"""The RFC 2136 side of the MX RRset editor against real BIND: the change is read back by DNS from the
primary, and a refused update says that nothing changed and what the zone still holds."""

from __future__ import annotations

import pytest

from cockpit.dns.mx_rrset import MxChangeError, MxRrsetEditor, ZoneMx
from cockpit.dns.rfc2136_editor import Rfc2136Editor
from cockpit.dns.tsig_key import parse_tsig_key
from tests.integration.dns.conftest import ZONE, BindPair

OLD = (ZoneMx(10, "mail.old-host.net."),)


async def test_replace_reads_the_rrset_back_from_the_primary(bind_pair: BindPair) -> None:
    key = parse_tsig_key(bind_pair.key_file.read_text(), "file tsig.key")
    editor: MxRrsetEditor = Rfc2136Editor("127.0.0.1", bind_pair.primary.port, key=key)
    records = [(20, "Backup.New-Host.NET"), (10, "mail.new-host.net.")]
    change = await editor.replace_mx(ZONE, records, 600)
    assert change.before == OLD
    assert sorted(change.after, key=str) == [ZoneMx(10, "mail.new-host.net."), ZoneMx(20, "backup.new-host.net.")]
    assert change.ttl == 600
    assert change.serial_before == 100 and change.serial_after == 101
    assert "done, serial 100 → 101" in change.message
    listed = await editor.list_mx(ZONE)
    assert (set(listed.records), listed.ttl) == (set(change.after), 600)
    assert editor.label == f"127.0.0.1:{bind_pair.primary.port} (RFC 2136 primary)"


async def test_a_refused_update_changed_nothing_and_says_what_is_there(bind_pair: BindPair) -> None:
    good = bind_pair.key_file.read_text()
    secret = good.split('secret "')[1].split('"')[0]
    wrong = parse_tsig_key(good.replace(secret, "AAAA" + secret[4:]), "file wrong.key")
    with pytest.raises(MxChangeError) as caught:
        await Rfc2136Editor("127.0.0.1", bind_pair.primary.port, key=wrong).replace_mx(ZONE, [(10, "x.example.")], 60)
    assert caught.value.changed is False and caught.value.holds == OLD
    assert "bad signature" in caught.value.message and caught.value.message.endswith("nothing changed")
    assert secret not in caught.value.message and secret not in repr(Rfc2136Editor("127.0.0.1", 53, key=wrong))

    with pytest.raises(MxChangeError) as secondary:
        await Rfc2136Editor("127.0.0.1", bind_pair.secondary.port, key=wrong).replace_mx(ZONE, [(10, "x.example.")], 60)
    assert secondary.value.changed is False
