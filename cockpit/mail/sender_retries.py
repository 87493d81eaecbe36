"""How common MTAs retry mail that was refused with a temporary failure: the senders' view of a parked MX.

While the MX points at the refusing parking address, every sender keeps the mail in its queue and tries
again on its own schedule. Once mail flows again, a message waits for its sender's next try, so the real
end of the downtime for a sender is its first retry after the final flip. The figures are the MTAs'
documented defaults; each schedule names its source. A site may have tuned them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cockpit.base.units import format_clock, format_duration

MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0


@dataclass(frozen=True)
class RetrySchedule:
    mta: str
    summary: str
    """The schedule in words."""
    next_delay: Callable[[float], float]
    """Given how long a message has been deferred (seconds since its first try), the delay to its next try."""
    gives_up: float
    """After this long in the queue the sender returns the mail as undeliverable."""
    source: str

    def tries(self, horizon: float) -> list[float]:
        """The times of the retries after the first try (seconds since it), up to `horizon`."""
        times: list[float] = []
        age = 0.0
        while True:
            age += self.next_delay(age)
            if age > min(horizon, self.gives_up):
                return times
            times.append(age)


def _postfix(age: float) -> float:
    # qmgr: the next delay is the message's age in the queue, bounded by minimal and maximal backoff time:
    # so the delay doubles from 300 s until it reaches 4000 s.
    return min(max(age, 300.0), 4000.0)


def _exim(age: float) -> float:
    # The default configuration's rule `*  *  F,2h,15m; G,16h,1h,1.5; F,4d,6h`.
    if age < 2 * HOUR:
        return 15 * MINUTE
    if age < 16 * HOUR:
        delay = HOUR
        elapsed = 2 * HOUR
        while elapsed + delay <= age:
            elapsed += delay
            delay *= 1.5
        return elapsed + delay - age
    return 6 * HOUR


def _exchange_online(age: float) -> float:
    # The first few delays are 15 minutes or less; later ones grow to at most an hour.
    if age < HOUR:
        return 15 * MINUTE
    return HOUR


SCHEDULES: tuple[RetrySchedule, ...] = (
    RetrySchedule(
        "Postfix",
        "300 s, doubling up to 4000 s; returned after 5 days",
        _postfix,
        5 * DAY,
        "postconf(5): minimal_backoff_time = 300s, maximal_backoff_time = 4000s, queue_run_delay = 300s, "
        "maximal_queue_lifetime = 5d (defaults since Postfix 2.4; qmgr(8) doubles the backoff)",
    ),
    RetrySchedule(
        "Exim",
        "every 15 min for 2 h, then 1 h growing ×1.5 until 16 h, then every 6 h; returned after 4 days",
        _exim,
        4 * DAY,
        'Exim specification, chapter "Retry configuration": the default configuration\'s retry rule '
        "`* * F,2h,15m; G,16h,1h,1.5; F,4d,6h` (tries happen at queue runs, often every 30 min)",
    ),
    RetrySchedule(
        "Exchange Online",
        "about every 15 min at first, then up to hourly; returned after 1 day",
        _exchange_online,
        DAY,
        "Microsoft Learn, Exchange Online mail flow: deferred messages stay in the queue for 24 hours; the first "
        "retries come within 15 minutes, later intervals grow to at most 60 minutes",
    ),
)


@dataclass(frozen=True)
class SendersView:
    deferred_for: float
    next_tries: tuple[tuple[str, float], ...]
    """(MTA, wall-clock time of its next try) of a message first refused when the downtime began."""
    worst_wait: tuple[str, float]
    """The longest a message refused now may wait for its next try, and whose schedule that is."""

    def line(self, since: float) -> str:
        """`deferred 3m since 05:39:41 UTC · next retries: Postfix 05:44:41 UTC, ... · ...`."""
        tries = ", ".join(f"{mta} {format_clock(at)}" for mta, at in self.next_tries)
        mta, wait = self.worst_wait
        return (f"deferred {format_duration(self.deferred_for)} since {format_clock(since)} · next retries: {tries} "
                f"· after the flip a sender may wait up to {format_duration(wait)} ({mta})")  # fmt: skip


def senders_view(since: float, now: float) -> SendersView:
    """What senders do with mail refused since `since` (the start of the downtime), seen at `now`."""
    deferred = max(0.0, now - since)
    tries, gaps = [], []
    for schedule in SCHEDULES:
        times = [0.0, *schedule.tries(deferred + DAY)]
        upcoming = [t for t in times if t > deferred]
        if upcoming:
            tries.append((schedule.mta, since + upcoming[0]))
            previous = max(t for t in times if t <= deferred)
            gaps.append((schedule.mta, upcoming[0] - previous))
    # The schedules never shorten their gaps: the gap the oldest refused message is in is the longest any
    # refused message is in, which is how long a sender may wait after the flip.
    worst = max(gaps, key=lambda pair: pair[1]) if gaps else ("", 0.0)
    return SendersView(deferred, tuple(tries), worst)
