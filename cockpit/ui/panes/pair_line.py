"""What the nameservers pane knows of one (domain, nameserver) pair, and the cells it shows for it.

The latest round's snapshot is the truth; a DnsFlip between rounds updates the state early. A failed poll
shows its status and why, never a state: a pair that times out is not counted as serving anything.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from textual.content import Content

from cockpit.base.safe_text import visible
from cockpit.base.units import format_duration
from cockpit.dns import MIXED, Observation, PairView, Status
from cockpit.engine.events import DnsFlip

COLUMNS = ("nameserver", "state", "status", "ttl", "serial", "flipped", "mx")
HEADERS = {
    "nameserver": "Nameserver",
    "state": "State",
    "status": "Status",
    "ttl": "TTL",
    "serial": "Serial",
    "flipped": "Flipped",
    "mx": "MX",
}
RIGHT_ALIGNED = frozenset({"ttl", "serial"})
NOTHING = Content.styled("—", "$text-muted")

STATUS_STYLES = {
    Status.OK: "$text-success",
    Status.NODATA: "bold $text-warning",
    Status.NXDOMAIN: "bold $text-warning",
}
"""Authoritative answers; every other status is a failure, shown in bold error colour."""


def state_style(states: tuple[str, ...], state: str | None) -> str:
    """By position in the plan: the first state (old) in warning colour, the last (new) in success, those
    between (parking) in primary; "mixed" (records of several states at once) in secondary, anything else
    in error colour. (Accent is not used: several themes give it the warning colour.)"""
    if state is None:
        return "$text-muted"
    if state in states:
        if state == states[-1]:
            return "bold $text-success"
        if state == states[0]:
            return "bold $text-warning"
        return "bold $text-primary"
    if state == MIXED:
        return "bold $text-secondary"
    return "bold $text-error"


def ago(seconds: float) -> str:
    """`just now`, `45s ago`, `1m5s ago`."""
    return "just now" if seconds < 1 else f"{format_duration(round(seconds))} ago"


def status_style(status: Status) -> str:
    return STATUS_STYLES.get(status, "bold $text-error")


@dataclass
class PairLine:
    """One row's data, updated in place from snapshots and flips."""

    domain: str
    nameserver: str
    """The server's label, as the watcher and DnsFlip name it."""
    label: str
    """What the first column shows: the nameserver, prefixed by the domain when the plan has several."""
    status: Status | None = None
    """None until the first answer."""
    state: str | None = None
    mx: str = ""
    ttl: int | None = None
    serial: int | None = None
    flipped_at: float | None = None
    """When the pair started serving its current MX; None when it already did as the watch began."""
    detail: str = ""
    seen: bool = False
    """The watcher reported this pair at least once (rows listed from the plan start unseen)."""

    @property
    def failed(self) -> bool:
        return self.status is not None and not self.status.authoritative

    def observe(self, view: PairView) -> None:
        """Take the pair's latest observation; the TTL and serial shown are what this round said."""
        observation = view.observation
        self.seen = True
        self.status = observation.status
        self.state = view.state if observation.status is Status.OK else None
        self.mx = visible(observation.mx_text()) + _signature_and_node(observation)
        self.ttl = observation.ttl
        self.serial = observation.serial
        self.detail = visible(observation.detail)
        if view.serving_since is not None:
            self.flipped_at = view.serving_since

    def flip(self, event: DnsFlip, mx: str) -> None:
        """A flip between rounds: an OK answer with a new MX set (`mx`, as text)."""
        self.seen = True
        self.status = Status.OK
        self.state = event.after
        self.ttl = event.ttl
        self.flipped_at = event.at
        self.mx = mx
        self.detail = ""

    def cells(self, states: tuple[str, ...], now: float) -> dict[str, Content]:
        """Every column's cell, styled; widths are the caller's business."""
        if self.status is None:
            blank = Content("")
            cells = dict.fromkeys(COLUMNS, blank)
            return cells | {"nameserver": Content(self.label), "status": Content.styled("waiting", "$text-muted")}
        status = Content.styled(self.status.value, status_style(self.status))
        if self.status is Status.OK:
            mx = Content(self.mx) if self.mx else NOTHING
        else:
            mx = Content.styled(self.detail, "$text-muted") if self.detail else NOTHING
        since = None if self.flipped_at is None else ago(now - self.flipped_at)
        return {
            "nameserver": Content(self.label),
            "state": Content.styled(self.state, state_style(states, self.state)) if self.state else NOTHING,
            "status": status,
            "ttl": Content(str(self.ttl)) if self.ttl is not None else NOTHING,
            "serial": Content(str(self.serial)) if self.serial is not None else NOTHING,
            "flipped": Content(since) if since is not None else NOTHING,
            "mx": mx,
        }


def mx_from_flip(event: DnsFlip, plan_mx: dict[str, str]) -> str:
    """The MX a flip moved to: the plan's records for a named state, else the flip's own account of it."""
    if event.after in plan_mx:
        return plan_mx[event.after]
    return event.detail.rpartition("→")[2].strip()


def _signature_and_node(observation: Observation) -> str:
    """What follows the MX in its cell: the RRSIG's expiry on a signed zone, the node an anycast address hit."""
    extra = ""
    if observation.rrsig_expires is not None:
        extra += " · sig until " + time.strftime("%m-%d %H:%M", time.localtime(observation.rrsig_expires))
    if observation.nsid:
        extra += f" · nsid {visible(observation.nsid)}"
    return extra
