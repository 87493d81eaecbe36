"""`cockpit check --online`: what a plan needs, tried for real before the move — and nothing changed.

Asks every (domain, nameserver) pair for its MX once, logs in to every host (host keys verified, no command
run), loads every secret that a step uses (never shown), and reads the SOA serial of every primary that a
`dns_update` step would update (over TCP, no update sent). Each check is one line; a problem says what to do.
Above SUMMARY_ABOVE pairs the answering pairs are one line per MX state and the first NAMED_BAD failing pairs
are named, the rest counted by status (`per_pair` lists every pair).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cockpit.base.units import format_duration
from cockpit.commands.watch import SUMMARY_ABOVE
from cockpit.dns import DiscoveryError, DnsWatcher, MxChangeError, TsigKeyError, load_tsig_key, watch_pairs
from cockpit.dns.events import PairView
from cockpit.dns.mx_rrset import mx_text
from cockpit.dns.update import PrimaryAddressError, primary_address, read_serial
from cockpit.engine.context import StepFailed
from cockpit.engine.mx_route import provider_editor
from cockpit.plan import DnsUpdateStep, Plan
from cockpit.plan.secret_values import SecretError, read_secret
from cockpit.ssh import HostConnections, PassphrasePrompt, SshError

DISCOVERY_TIMEOUT = 30.0
SERIAL_TIMEOUT = 5.0
NAMED_BAD = 20
"""Failing pairs named one per line in a summary; the others are counted."""


@dataclass(frozen=True)
class Finding:
    ok: bool
    area: str
    """dns, ssh, secret, primary or provider."""
    text: str
    count: int = 1
    """How many checks the line stands for (a summary line of many pairs)."""

    def line(self) -> str:
        return f"  {'ok ' if self.ok else 'BAD'}  {self.area:<7} {self.text}"


async def online_findings(
    plan: Plan, base_dir: Path, passphrase: PassphrasePrompt | None, *, per_pair: bool = False
) -> list[Finding]:
    """Every check, in a stable order: nameservers, hosts, secrets, primaries."""
    dns, ssh, primaries, providers = await asyncio.gather(
        _nameservers(plan, per_pair), _hosts(plan, base_dir, passphrase), _primaries(plan), _providers(plan, base_dir)
    )
    return [*dns, *ssh, *_secrets(plan, base_dir), *primaries, *providers]


async def _nameservers(plan: Plan, per_pair: bool) -> list[Finding]:
    try:
        async with asyncio.timeout(DISCOVERY_TIMEOUT):
            pairs = await watch_pairs(plan.domains, plan.nameservers)
    except (DiscoveryError, TimeoutError, OSError) as exc:
        return [Finding(False, "dns", f"cannot find the nameservers: {exc or 'no answer'}")]
    if not pairs:
        return [Finding(False, "dns", "no nameservers: list them under 'nameservers'")]
    watcher = DnsWatcher(pairs, states=plan.mx_states, timeout=plan.dns.timeout, concurrency=plan.dns.concurrency)
    try:
        snapshot = await watcher.poll_round()
    finally:
        await watcher.close()
    if len(snapshot.pairs) > SUMMARY_ABOVE and not per_pair:
        return _pairs_summary(snapshot.pairs)
    findings = []
    for view in snapshot.pairs:
        obs = view.observation
        where = f"{obs.domain} @{obs.server.label}"
        if not obs.status.authoritative:
            detail = f" ({obs.detail})" if obs.detail else ""
            findings.append(Finding(False, "dns", f"{where}: {obs.status.value}{detail}"))
            continue
        mx = obs.mx_text() if obs.mx else "no MX"
        ttl = f"TTL {obs.ttl}" if obs.ttl is not None else "no TTL"
        state = f"  [{view.state}]" if view.state is not None else ""
        findings.append(Finding(True, "dns", f"{where}: {obs.status.value}  {mx}  {ttl}  serial {obs.serial}{state}"))
    return findings


def _pairs_summary(views: Sequence[PairView]) -> list[Finding]:
    """Many pairs: one line per MX state the answering pairs serve, the first failing pairs by name, the rest
    counted by status."""
    answering = [view for view in views if view.observation.status.authoritative]
    failing = [view for view in views if not view.observation.status.authoritative]
    findings: list[Finding] = []
    by_state: dict[str, list[PairView]] = {}
    for view in answering:
        by_state.setdefault(view.state or "no known MX state", []).append(view)
    for state, group in sorted(by_state.items(), key=lambda item: -len(item[1])):
        ttls = sorted({view.observation.ttl for view in group if view.observation.ttl is not None})
        serials = sorted({view.observation.serial for view in group if view.observation.serial is not None})
        ttl = f"TTL {_span(ttls)}" if ttls else "no TTL"
        serial = f"serial {_span(serials)}" if serials else "no serial"
        findings.append(Finding(
            True, "dns", f"{len(group):,} of {len(views):,} pairs: ok  [{state}]  {ttl}  {serial}", count=len(group)
        ))  # fmt: skip
    for view in failing[:NAMED_BAD]:
        obs = view.observation
        detail = f" ({obs.detail})" if obs.detail else ""
        findings.append(Finding(False, "dns", f"{obs.domain} @{obs.server.label}: {obs.status.value}{detail}"))
    rest = failing[NAMED_BAD:]
    if rest:
        statuses = Counter(view.observation.status.value for view in rest)
        counted = ", ".join(f"{status} {n:,}" for status, n in statuses.most_common())
        findings.append(Finding(
            False, "dns", f"{len(rest):,} more pairs fail ({counted}); --pairs names every one", count=len(rest)
        ))  # fmt: skip
    return findings


def _span(values: Sequence[int]) -> str:
    return str(values[0]) if len(values) == 1 else f"{values[0]}–{values[-1]}"


async def _hosts(plan: Plan, base_dir: Path, passphrase: PassphrasePrompt | None) -> list[Finding]:
    findings: list[Finding] = []
    async with HostConnections.for_plan(plan, base_dir, passphrase=passphrase) as hosts:

        async def one(name: str) -> Finding:
            try:
                conn = await hosts.connect(name)
            except SshError as exc:
                return Finding(False, "ssh", str(exc))
            key = conn.get_server_host_key()
            user = conn.get_extra_info("username") or "?"
            peer = conn.get_extra_info("peername") or ("?", 0)
            verified = "host key verified"
            if key is not None:
                verified = f"host key {key.get_algorithm()} {key.get_fingerprint()} verified"
            return Finding(True, "ssh", f"{name}: logged in as {user} at {peer[0]}:{peer[1]}, {verified}")

        findings = list(await asyncio.gather(*(one(name) for name in plan.hosts)))
    return findings


def _secrets(plan: Plan, base_dir: Path) -> list[Finding]:
    tsig = {step.key for _, step in plan.steps() if isinstance(step, DnsUpdateStep)}
    findings = []
    for name, secret in plan.secrets.items():
        try:
            if name in tsig:
                key = load_tsig_key(secret, base_dir)
                text = f"{name}: TSIG key {key.name} ({key.algorithm}) from {key.origin}"
            else:
                value = read_secret(secret, base_dir)
                text = f"{name}: readable from {value.origin}"
        except (TsigKeyError, SecretError) as exc:
            findings.append(Finding(False, "secret", f"{name}: {exc}"))
            continue
        findings.append(Finding(True, "secret", text))
    return findings


async def _primaries(plan: Plan) -> list[Finding]:
    seen: dict[tuple[str, int, str], None] = {}
    for _, step in plan.steps():
        if isinstance(step, DnsUpdateStep) and step.server is not None:
            for domain in step.domains or plan.domains:
                seen[(step.server.host, step.server.port or 53, step.zone or domain)] = None

    async def one(host: str, port: int, zone: str) -> Finding:
        label = f"{host}:{port} zone {zone}"
        try:
            address = await primary_address(host)
        except PrimaryAddressError as exc:
            return Finding(False, "primary", f"{label}: {exc}")
        serial = await read_serial(address, port, zone, SERIAL_TIMEOUT)
        if serial is None:
            return Finding(False, "primary", f"{label}: no SOA over TCP within {format_duration(SERIAL_TIMEOUT)}")
        return Finding(True, "primary", f"{label}: answers over TCP, serial {serial} (no update sent)")

    return list(await asyncio.gather(*(one(*key) for key in seen)))


async def _providers(plan: Plan, base_dir: Path) -> list[Finding]:
    """The MX each provider-routed dns_update would replace, listed through the provider's API (read only)."""
    seen: dict[tuple[str, str, str], None] = {}
    for _, step in plan.steps():
        if isinstance(step, DnsUpdateStep) and step.provider is not None:
            for domain in step.domains or plan.domains:
                seen[(step.provider, step.zone or domain, domain)] = None

    async def one(name: str, zone: str, domain: str) -> Finding:
        label = f"provider {name} zone {zone}"
        try:
            editor = provider_editor(plan, name, base_dir)
            rrset = await editor.list_mx(zone, domain)
        except StepFailed as exc:
            return Finding(False, "provider", f"{label}: {exc}")
        except MxChangeError as exc:
            return Finding(False, "provider", f"{label}: {exc.message}")
        ttl = f" (TTL {rrset.ttl})" if rrset.ttl is not None else ""
        shown = f"{domain} " if domain != zone else ""
        return Finding(
            True, "provider", f"{label}: {shown}MX {mx_text(rrset.records)}{ttl} via {rrset.via} (nothing sent)"
        )

    return list(await asyncio.gather(*(one(*key) for key in seen)))
