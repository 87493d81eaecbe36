"""The order of a provider MX change's calls: the zone keeps an MX wherever the API allows it."""

from __future__ import annotations

from cockpit.dns.lexicon_session import ListedMx
from cockpit.dns.mx_call_order import Add, Delete, mx_calls
from cockpit.dns.mx_rrset import ZoneMx


def listed(preference: int | None, host: str, ttl: int | None = 300) -> ListedMx:
    return ListedMx(ZoneMx(preference, host), f"{preference} {host}", f"id-{preference}-{host}", ttl)


def test_new_records_go_in_before_the_old_go_out() -> None:
    old = listed(10, "mail.old.")
    assert mx_calls([old], [(10, "mail.new."), (20, "backup.new.")], 300) == [
        Add(10, "mail.new."),
        Add(20, "backup.new."),
        Delete(old),
    ]


def test_nothing_to_do_is_no_call_and_a_record_without_preference_is_kept() -> None:
    assert mx_calls([listed(10, "mail.new.")], [(10, "mail.new.")], 300) == []
    assert mx_calls([listed(None, "mail.new.")], [(10, "mail.new.")], 300) == []


def test_a_new_preference_replaces_one_host_at_a_time() -> None:
    a, b = listed(10, "a."), listed(20, "b.")
    assert mx_calls([a, b], [(20, "a."), (10, "b.")], 300) == [Delete(a), Add(20, "a."), Delete(b), Add(10, "b.")]


def test_a_new_ttl_empties_the_set_first() -> None:
    a, b = listed(10, "a.", ttl=3600), listed(20, "b.", ttl=3600)
    assert mx_calls([a, b], [(10, "a."), (20, "b.")], 300) == [Delete(a), Delete(b), Add(10, "a."), Add(20, "b.")]


def test_an_unknown_ttl_is_left_alone_and_extra_copies_go() -> None:
    a, twin = listed(10, "a.", ttl=None), ListedMx(ZoneMx(10, "a."), "10 a.", "id-twin", None)
    assert mx_calls([a, twin], [(10, "a.")], 300) == [Delete(twin)]
