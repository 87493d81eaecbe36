"""Direct queries to authoritative nameservers, classification against the plan's MX states, the
polling watcher, nameserver discovery, and changing the MX RRset by RFC 2136 or a provider's API.
Asyncio only; no UI imports.

The provider side (`cockpit.dns.lexicon_editor`, `cockpit.dns.lexicon_options`) is imported from its
modules: loading dns-lexicon and requests takes start-up time that the watcher and the UI do not need. Its
errors and zone types are in `cockpit.dns.mx_rrset`; the package names only the editor interface."""

from __future__ import annotations

from cockpit.dns.classify import MIXED, OTHER, MxStates, StatesFor, classify, classify_mx
from cockpit.dns.discovery import (
    DiscoveryError,
    IncompleteAddresses,
    discover_servers,
    resolve_nameservers,
    watch_pairs,
)
from cockpit.dns.events import Flip, PairView, RoundDone, Snapshot, StatusChange, WatchEvent
from cockpit.dns.history import History, OldTtl
from cockpit.dns.mx_rrset import MxChange, MxChangeError, MxRrsetEditor
from cockpit.dns.observation import MxEntry, Observation, Pair, Server, Status
from cockpit.dns.query import DirectQuerier
from cockpit.dns.rfc2136_editor import Rfc2136Editor
from cockpit.dns.serial_split import NameSerials, serial_splits, serials_by_name
from cockpit.dns.tsig_key import TsigKey, TsigKeyError, load_tsig_key, parse_tsig_key
from cockpit.dns.update import UpdateResult, mx_values, update_mx
from cockpit.dns.watcher import DnsWatcher, Subscription

__all__ = [
    "MIXED",
    "OTHER",
    "DirectQuerier",
    "DiscoveryError",
    "DnsWatcher",
    "Flip",
    "History",
    "IncompleteAddresses",
    "MxChange",
    "MxChangeError",
    "MxEntry",
    "MxRrsetEditor",
    "MxStates",
    "NameSerials",
    "Observation",
    "OldTtl",
    "Pair",
    "PairView",
    "Rfc2136Editor",
    "RoundDone",
    "Server",
    "Snapshot",
    "StatesFor",
    "Status",
    "StatusChange",
    "Subscription",
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
    "serial_splits",
    "serials_by_name",
    "update_mx",
    "watch_pairs",
]
