"""The demo plan the lab serves: the three-window method as steps that really run against the lab.

The lab renders it with the addresses, ports and durations it actually uses (ports are often picked by the
system) and writes it into its folder; `sample-plans/demo.yaml` is the same rendering with the default
values, and a test keeps the two identical. The shell commands use only POSIX tools and GNU tar.

Mail stores are folders of files `store/MAILBOX/ID.UNIQUE.eml`, one per delivery, never renamed. Every copy
step sends a list of exact file names (the bulk list, the delta against it, the stragglers against both), so a
message is copied at most once per list and the same name always lands on the same file: no duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from string import Template

from cockpit.lab.pace import Pace

DOMAIN = "demo.test"
MX_HOSTS = {"old": "mail.old.demo.test.", "parking": "parked.new.demo.test.", "new": "mail.new.demo.test."}
"""The MX target of each state; the zone gives each an A record on the matching SMTP endpoint."""
MAILBOXES = ("alice", "bob", "carol")
TSIG_KEY_NAME = "demo-update"
MTA_FLAG = "mta/enabled"
"""Created (over SSH) in a host's sandbox to start its MTA; removed to stop it."""
MTA_LISTENING = "mta/listening"
"""Written by the lab once the MTA listens (its address), removed when it stops."""

DELTA_EXPORT = "delta-export"
DELTA_IMPORT = "delta-import"
START_NEW_MTA = "start-new-mta"
RECKLESS_SKIPS = frozenset(
    {"normal-ttl-wait", "old-ttl-wait", "stragglers-export", "stragglers-copy", "stragglers-import"}
)
"""Steps a reckless plan leaves out: no TTL waits, no forwarding of what still reaches the old host."""


@dataclass(frozen=True)
class Endpoint:
    address: str
    port: int

    def __str__(self) -> str:
        return f"[{self.address}]:{self.port}" if ":" in self.address else f"{self.address}:{self.port}"


@dataclass(frozen=True)
class PlanValues:
    """Everything the rendered plan depends on."""

    ns1: Endpoint
    ns2: Endpoint
    ssh_old: Endpoint
    ssh_new: Endpoint
    smtp_old: Endpoint
    smtp_parking: Endpoint
    smtp_new: Endpoint
    pace: Pace = field(default_factory=Pace.at)
    reckless: bool = False
    mailboxes: tuple[str, ...] = MAILBOXES

    @classmethod
    def sample(cls) -> PlanValues:
        """The values of `sample-plans/demo.yaml`: fixed ports, speed 1."""
        return cls(
            ns1=Endpoint("127.0.0.1", 5301),
            ns2=Endpoint("127.0.0.1", 5302),
            ssh_old=Endpoint("127.0.0.1", 2201),
            ssh_new=Endpoint("127.0.0.1", 2202),
            smtp_old=Endpoint("127.0.0.2", 2525),
            smtp_parking=Endpoint("127.0.0.3", 2525),
            smtp_new=Endpoint("127.0.0.4", 2525),
        )


_HEADER = Template("""\
# yaml-language-server: $$schema=./plan-v1.schema.json
#
# The whole three-window method against the embedded lab. `cockpit lab up` starts the lab and writes this plan
# into its folder with the addresses and ports it really uses; run it with `cockpit run FOLDER/plan.yaml`.
#   - ns1 and ns2 serve demo.test: ns1 takes TSIG-signed updates (key in tsig.key), ns2 follows it $lag later,
#     so the cockpit always sees one nameserver behind the other.
#   - SSH hosts old and new run commands in their sandbox folders; a mail store is store/MAILBOX/ID.UNIQUE.eml.
#   - SMTP: $smtp_old is the old MTA, $smtp_parking the parking address (nothing listens: senders
#     are refused and retry), $smtp_new the new MTA (it starts when step start-new-mta says so).
#   - Simulated senders look the MX up through ns1 and ns2, cache it for its TTL and retry refused deliveries.
# Relative paths (known_hosts, id_ed25519, tsig.key) are taken from the folder this plan sits in.
# Durations are for lab speed $speed; the MX TTL starts at $normal_ttl s.$reckless_note
version: 1
name: "Demo: move demo.test mail from the old lab host to the new one"
domains: [demo.test]
nameservers:
  - {name: ns1.demo.test, address: $ns1_address, port: $ns1_port}   # primary, takes the updates
  - {name: ns2.demo.test, address: $ns2_address, port: $ns2_port}   # secondary, follows the primary with a lag
dns: {interval: $interval, timeout: $timeout}
ttl: $low_ttl

mx:
  old: 10 mail.old.demo.test.
  parking: 10 parked.new.demo.test.
  new: 10 mail.new.demo.test.

hosts:
  old: {address: $ssh_old_address, port: $ssh_old_port, user: lab, known_hosts: known_hosts, identity: id_ed25519}
  new: {address: $ssh_new_address, port: $ssh_new_port, user: lab, known_hosts: known_hosts, identity: id_ed25519}

secrets:
  dnskey: {file: tsig.key}

phases:""")

_PHASES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "before",
        (
            (
                "lower-ttl",
                """\
      # Lower the MX TTL: once it is low, caches forget the MX within $low_ttl s after each change.
      - dns_update: {server: "$ns1", key: dnskey, mx: old, ttl: $low_ttl}
        id: lower-ttl
        title: Lower the MX TTL to $low_ttl s
        idempotent: true""",
            ),
            (
                "ttl-propagated",
                """\
      # Both nameservers must serve the low TTL (ns2 only after its lag).
      - wait_dns: {ttl_at_most: $low_ttl}
        id: ttl-propagated""",
            ),
            (
                "normal-ttl-wait",
                """\
      # A cache may still hold the MX with its former TTL: wait that out once, then every cache has the low one.
      - countdown: former_ttl
        id: normal-ttl-wait""",
            ),
            (
                "create-store",
                """\
      # Empty mailboxes on the new host.
      - ssh: {host: new, run: "mkdir -p $mailbox_dirs && ls store"}
        id: create-store
        title: Create the mailboxes on new
        idempotent: true""",
            ),
            (
                "bulk-export",
                """\
      # Bulk pre-copy while mail still flows to old: list every message on old and pack exactly that list.
      - ssh:
          host: old
          run: >-
            (cd store && find . -name '*.eml') | LC_ALL=C sort > bulk.list &&
            tar -cf bulk.tar -C store -T bulk.list && wc -l bulk.list
          title: Pack every message on old (bulk)
        id: bulk-export
        idempotent: true""",
            ),
            (
                "bulk-copy",
                """\
      # Stream the archive from old to new through the cockpit, checked by SHA-256.
      - transfer: {from: "old:bulk.tar", to: "new:bulk.tar"}
        id: bulk-copy
        idempotent: true""",
            ),
            (
                "bulk-import",
                """\
      # Unpack into the new store; file names are unique, so unpacking twice changes nothing.
      - ssh: {host: new, run: "tar -xf bulk.tar -C store && find store -name '*.eml' | wc -l"}
        id: bulk-import
        title: Unpack the bulk copy on new
        idempotent: true""",
            ),
            (
                "parking-refuses",
                """\
      # The parking address must refuse connections: senders then retry later instead of bouncing.
      - port: {address: $smtp_parking_address, port: $smtp_parking_port, expect: closed}
        id: parking-refuses""",
            ),
        ),
    ),
    (
        "during",
        (
            (
                "mx-to-parking",
                """\
      # Point the MX at the parking address: from now on new deliveries are refused and queued by the senders.
      - dns_update: {server: "$ns1", key: dnskey, mx: parking}
        id: mx-to-parking
        idempotent: true""",
            ),
            (
                "parking-propagated",
                """\
      # Every nameserver must serve the parking MX before the wait starts.
      - wait_dns: {mx: parking}
        id: parking-propagated""",
            ),
            (
                "old-ttl-wait",
                """\
      # One old TTL after the last nameserver flipped, no cache still sends mail to the old MTA.
      - countdown: old_ttl
        id: old-ttl-wait""",
            ),
            (
                "delta-export",
                """\
      # The delta: every message on old that is not in the bulk list.
      - ssh:
          host: old
          run: >-
            (cd store && find . -name '*.eml') | LC_ALL=C sort > now.list &&
            LC_ALL=C comm -13 bulk.list now.list > delta.list &&
            tar -cf delta.tar -C store -T delta.list && wc -l delta.list
          title: Pack the delta on old
        id: delta-export
        idempotent: true""",
            ),
            (
                "delta-copy",
                """\
      - transfer: {from: "old:delta.tar", to: "new:delta.tar"}
        id: delta-copy
        idempotent: true""",
            ),
            (
                "delta-import",
                """\
      - ssh: {host: new, run: "tar -xf delta.tar -C store && find store -name '*.eml' | wc -l"}
        id: delta-import
        title: Import the delta on new
        idempotent: true""",
            ),
        ),
    ),
    (
        "after",
        (
            (
                "mx-to-new",
                """\
      # Point the MX at the new MTA's address (it does not listen yet: senders keep retrying meanwhile).
      - dns_update: {server: "$ns1", key: dnskey, mx: new}
        id: mx-to-new
        idempotent: true""",
            ),
            (
                "new-propagated",
                """\
      - wait_dns: {mx: new}
        id: new-propagated""",
            ),
            (
                "start-new-mta",
                """\
      # Start the new MTA: the lab starts it when mta/enabled appears and writes mta/listening once it listens.
      - ssh:
          host: new
          run: >-
            mkdir -p mta && touch mta/enabled &&
            timeout 10 sh -c 'until [ -e mta/listening ]; do sleep 0.1; done' && cat mta/listening
          title: Start the MTA on new
        id: start-new-mta
        idempotent: true""",
            ),
            (
                "new-mta-listens",
                """\
      - port: {address: $smtp_new_address, port: $smtp_new_port, expect: open}
        id: new-mta-listens""",
            ),
            (
                "stragglers-export",
                """\
      # Stragglers: messages that reached old after the delta list was made (none, when the wait was kept).
      - ssh:
          host: old
          run: >-
            (cd store && find . -name '*.eml') | LC_ALL=C sort > now.list &&
            cat bulk.list delta.list | LC_ALL=C sort | LC_ALL=C comm -13 - now.list > late.list &&
            tar -cf late.tar -C store -T late.list && wc -l late.list
          title: Pack the stragglers on old
        id: stragglers-export
        idempotent: true""",
            ),
            (
                "stragglers-copy",
                """\
      - transfer: {from: "old:late.tar", to: "new:late.tar"}
        id: stragglers-copy
        idempotent: true""",
            ),
            (
                "stragglers-import",
                """\
      - ssh: {host: new, run: "tar -xf late.tar -C store && find store -name '*.eml' | wc -l"}
        id: stragglers-import
        title: Forward the stragglers into the new store
        idempotent: true""",
            ),
            (
                "restore-ttl",
                """\
      # The move is done: back to the normal MX TTL.
      - dns_update: {server: "$ns1", key: dnskey, mx: new, ttl: $normal_ttl}
        id: restore-ttl
        title: Restore the MX TTL to $normal_ttl s
        idempotent: true""",
            ),
        ),
    ),
)


def _seconds(value: float) -> str:
    return f"{value:g}s"


def render_demo_plan(values: PlanValues) -> str:
    """The plan text for `values`; the lab loads it back with `load_plan` to check it."""
    pace = values.pace
    mapping = {
        "ns1": str(values.ns1),
        "ns1_address": values.ns1.address,
        "ns1_port": values.ns1.port,
        "ns2_address": values.ns2.address,
        "ns2_port": values.ns2.port,
        "ssh_old_address": values.ssh_old.address,
        "ssh_old_port": values.ssh_old.port,
        "ssh_new_address": values.ssh_new.address,
        "ssh_new_port": values.ssh_new.port,
        "smtp_old": str(values.smtp_old),
        "smtp_parking": str(values.smtp_parking),
        "smtp_parking_address": values.smtp_parking.address,
        "smtp_parking_port": values.smtp_parking.port,
        "smtp_new": str(values.smtp_new),
        "smtp_new_address": values.smtp_new.address,
        "smtp_new_port": values.smtp_new.port,
        "interval": _seconds(pace.dns_interval),
        "timeout": _seconds(pace.dns_timeout),
        "low_ttl": pace.low_ttl,
        "normal_ttl": pace.normal_ttl,
        "lag": _seconds(round(pace.secondary_lag, 2)),
        "speed": f"{pace.speed:g}",
        "mailbox_dirs": " ".join(f"store/{box}" for box in values.mailboxes),
        "reckless_note": (
            "\n# RECKLESS: no TTL waits and no forwarding of stragglers; mail that still reaches old stays there."
            if values.reckless
            else ""
        ),
    }
    parts = [_HEADER.substitute(mapping)]
    for phase, steps in _PHASES:
        parts.append(f"  - name: {phase}\n    steps:")
        for step_id, text in steps:
            if values.reckless and step_id in RECKLESS_SKIPS:
                continue
            parts.append(Template(text).substitute(mapping))
        parts.append("")
    return "\n".join(parts).rstrip("\n") + "\n"
