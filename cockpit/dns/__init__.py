"""Direct queries to authoritative nameservers, classification against the plan's MX states, the
polling watcher, nameserver discovery and RFC 2136 updates. Asyncio only; no UI imports."""

from __future__ import annotations

from cockpit.dns.classify import MIXED, OTHER, MxStates, classify, classify_mx
from cockpit.dns.clock import Clock, SystemClock
from cockpit.dns.discovery import DiscoveryError, discover_servers, resolve_nameservers, watch_pairs
from cockpit.dns.events import Flip, PairView, RoundDone, Snapshot, StatusChange, WatchEvent
from cockpit.dns.history import History, OldTtl
from cockpit.dns.observation import MxEntry, Observation, Pair, Server, Status
from cockpit.dns.query import DirectQuerier
from cockpit.dns.tsig_key import TsigKey, TsigKeyError, load_tsig_key, parse_tsig_key
from cockpit.dns.update import UpdateResult, mx_values, update_mx
from cockpit.dns.watcher import DnsWatcher, Subscription

__all__ = [
    "MIXED",
    "OTHER",
    "Clock",
    "DirectQuerier",
    "DiscoveryError",
    "DnsWatcher",
    "Flip",
    "History",
    "MxEntry",
    "MxStates",
    "Observation",
    "OldTtl",
    "Pair",
    "PairView",
    "RoundDone",
    "Server",
    "Snapshot",
    "Status",
    "StatusChange",
    "Subscription",
    "SystemClock",
    "TsigKey",
    "TsigKeyError",
    "UpdateResult",
    "WatchEvent",
    "classify",
    "classify_mx",
    "discover_servers",
    "load_tsig_key",
    "mx_values",
    "parse_tsig_key",
    "resolve_nameservers",
    "update_mx",
    "watch_pairs",
]
