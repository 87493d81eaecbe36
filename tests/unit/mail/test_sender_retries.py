"""The senders' view of a parked MX: each MTA's retry schedule as documented (Postfix's doubling backoff,
Exim's default retry rule, Exchange Online's quarter-hour then hourly retries), when the first refused message
is tried next, and the longest a sender may wait after the flip."""

from __future__ import annotations

import itertools

from cockpit.mail.sender_retries import HOUR, MINUTE, SCHEDULES, senders_view

SCHEDULE = {s.mta: s for s in SCHEDULES}


def test_postfix_doubles_from_300_s_up_to_4000_s_and_returns_the_mail_after_5_days() -> None:
    tries = SCHEDULE["Postfix"].tries(6 * HOUR)
    assert tries[:6] == [300, 600, 1200, 2400, 4800, 8800]
    assert all(b - a == 4000 for a, b in itertools.pairwise(tries[5:]))
    assert SCHEDULE["Postfix"].tries(10 * 86400)[-1] <= 5 * 86400


def test_exim_follows_its_default_rule() -> None:
    tries = SCHEDULE["Exim"].tries(20 * HOUR)
    assert tries[:8] == [15 * MINUTE * n for n in range(1, 9)]  # F,2h,15m
    assert tries[8:11] == [3 * HOUR, 4.5 * HOUR, 6.75 * HOUR]  # G,16h,1h,1.5
    late = SCHEDULE["Exim"].tries(30 * HOUR)
    assert late[-1] - late[-2] == 6 * HOUR  # F,4d,6h


def test_exchange_online_retries_quarter_hourly_then_hourly_for_a_day() -> None:
    tries = SCHEDULE["Exchange Online"].tries(2 * 86400)
    assert tries[:5] == [15 * MINUTE, 30 * MINUTE, 45 * MINUTE, HOUR, 2 * HOUR]
    assert tries[-1] <= 86400


def test_every_schedule_names_its_source() -> None:
    assert all(s.source and s.summary for s in SCHEDULES)


def test_the_view_of_mail_refused_three_minutes_ago() -> None:
    view = senders_view(since=10_000.0, now=10_180.0)
    assert view.deferred_for == 180
    assert dict(view.next_tries) == {"Postfix": 10_300.0, "Exim": 10_900.0, "Exchange Online": 10_900.0}
    assert view.worst_wait == ("Exim", 15 * MINUTE)
    later = senders_view(since=0.0, now=3 * HOUR + 60)
    assert later.worst_wait == ("Exim", 1.5 * HOUR), "the first refused message sits in Exim's 3 h → 4.5 h gap"
    assert "deferred 3m since " in view.line(10_000.0) and "(Exim)" in view.line(10_000.0)
