"""The demo plan the lab serves: the three-window method as steps that really run against the lab.

The lab renders it with the addresses, ports and durations it actually uses (ports are often picked by the
system) and writes it into its folder; `sample-plans/demo.yaml` is the same rendering with the default
values, and a test keeps the two identical. The steps are in `demo_plan_steps`.

Each host's mail store is a Maildir per user, `~/store/{user}` (a lab host's HOME is its sandbox). The plan
moves the mail with the real mail steps — inventory, sync by message identity (pre-copy, delta, stragglers),
verify — and proves each MX change with canaries, as a plan for real servers would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from string import Template

from cockpit.lab.demo_plan_steps import PHASES, RECKLESS_SKIPS
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
PARKING_FLAG = "mta/parking"
"""Created (over SSH) in the new host's sandbox to make its MTA listen on the parking address as well."""
PARKING_LISTENING = "mta/parking-listening"
"""Written by the lab once the new MTA listens on the parking address."""
STORE_DIR = "store"
"""The folder of a host's Maildirs, in its sandbox (its HOME)."""
STORE_PATH = "~/" + STORE_DIR + "/{user}"
"""The plan's path pattern of both stores."""
OLD_STORE = "old-store"
NEW_STORE = "new-store"


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
#   - SSH hosts old and new run commands in their sandbox folders (their HOME); each keeps its mail in one
#     Maildir per user, ~/store/USER.
#   - SMTP: $smtp_old is the old MTA, $smtp_parking the parking address (nothing listens: senders
#     are refused and retry), $smtp_new the new MTA (it starts when step start-new-mta says so, and
#     listens on the parking address too once step open-parking says so).
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

stores:
  $old_store: {host: old, format: maildir, path: "$store_path"}
  $new_store: {host: new, format: maildir, path: "$store_path"}

phases:""")


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
        "domain": DOMAIN,
        "old_store": OLD_STORE,
        "new_store": NEW_STORE,
        "store_path": STORE_PATH,
        "quiet": _seconds(pace.quiet),
        "within": _seconds(pace.canary_within),
        "reckless_note": (
            "\n# RECKLESS: no TTL waits and no stragglers pass; mail that still reaches old stays there."
            if values.reckless
            else ""
        ),
    }
    parts = [_HEADER.substitute(mapping)]
    for phase, steps in PHASES:
        parts.append(f"  - name: {phase}\n    steps:")
        for step_id, text in steps:
            if values.reckless and step_id in RECKLESS_SKIPS:
                continue
            parts.append(Template(text).substitute(mapping))
        parts.append("")
    return "\n".join(parts).rstrip("\n") + "\n"
