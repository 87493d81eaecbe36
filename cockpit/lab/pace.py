"""The lab's durations, compressed by one `speed` factor: TTLs, secondary lag, polling, sender rate and backoff.

At speed 1 a whole demo move takes a few minutes, a pace for watching (or recording) it; tests run at 20 or
more. TTLs are whole seconds in DNS, so they never go below one second however fast the lab runs.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_INTERVAL = 0.1
"""The fastest polling interval written into the plan."""


@dataclass(frozen=True)
class Pace:
    """Every duration the lab uses, in seconds, already scaled."""

    speed: float
    normal_ttl: int
    """The MX TTL the zone starts with (and is restored to): what the TTL-lowering step shortens."""
    low_ttl: int
    """The low MX TTL of the before window: the plan's `ttl`, and what `countdown: old_ttl` waits."""
    secondary_lag: float
    """How long the secondary nameserver keeps serving the previous zone after a change."""
    dns_interval: float
    """The plan's polling interval for the nameservers."""
    dns_timeout: float
    senders: int
    """Simulated remote MTAs, each with its own DNS cache."""
    sender_interval: float
    """Seconds between two new messages of one sender."""
    backoff_first: float
    backoff_max: float

    @classmethod
    def at(
        cls,
        speed: float = 1.0,
        *,
        normal_ttl: float = 60,
        low_ttl: float = 15,
        secondary_lag: float = 5,
        dns_interval: float = 1,
        senders: int = 4,
        sender_interval: float = 2,
        backoff_first: float = 2,
        backoff_max: float = 16,
    ) -> Pace:
        """The pace for `speed`, from durations given for speed 1 (the defaults suit a screencast)."""
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed:g}")
        low = max(1, round(low_ttl / speed))
        return cls(
            speed=speed,
            normal_ttl=max(low + 1, round(normal_ttl / speed)),
            low_ttl=low,
            secondary_lag=secondary_lag / speed,
            dns_interval=max(MIN_INTERVAL, round(dns_interval / speed, 2)),
            dns_timeout=1.0,
            senders=max(1, senders),
            sender_interval=sender_interval / speed,
            backoff_first=backoff_first / speed,
            backoff_max=backoff_max / speed,
        )

    @property
    def quiet(self) -> float:
        """How long the old store must receive nothing before the delta copy (the plan's `drain`): a few
        polling rounds, and at least one second."""
        return max(1.0, round(5 / self.speed, 1))

    @property
    def canary_within(self) -> float:
        """How long the plan's canary may take to reach the new store (the lab MTA delivers at once)."""
        return max(10.0, round(30 / self.speed))

    @property
    def drain_timeout(self) -> float:
        """Long enough for every retrying sender to try again once (its backoff never exceeds backoff_max)."""
        return self.backoff_max * 1.5 + 2.0
