"""`cockpit watch`: the operator's dig loop, done properly — every nameserver asked directly, every round.

`cockpit watch PLAN` watches the plan's domains on its nameservers (or their NS records) and names the MX
state each pair serves; `cockpit watch DOMAIN... --ns NS` needs no plan. Text mode prints one dig-like
line per pair per round and a highlighted line when a pair changes; `--json` prints JSON Lines. With many
pairs (a whole server's domains) a round is one summary line of counts per state instead (`--summary`,
the default above SUMMARY_ABOVE pairs; `--pairs` keeps the lines per pair).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import click

from cockpit.base import collector
from cockpit.base.safe_text import visible
from cockpit.commands.common import fail, load_plan_or_exit
from cockpit.dns.discovery import DiscoveryError, watch_pairs
from cockpit.dns.events import PairView, Snapshot
from cockpit.dns.observation import Observation, Pair, Status
from cockpit.dns.watcher import DnsWatcher
from cockpit.engine.exit_codes import EXIT_BAD_INPUT, EXIT_DONE, EXIT_FAILED, EXIT_INTERRUPTED
from cockpit.plan import Nameserver, Plan
from cockpit.plan.values import normalize_hostname, parse_duration

DEFAULT_INTERVAL = 60.0
DEFAULT_QUERY_TIMEOUT = 3.0
SUMMARY_ABOVE = 50
"""More domain × nameserver pairs than this and a round is summarised (unless --pairs)."""
NAMED_FAILURES = 5


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def observation_json(view: PairView, round_number: int) -> dict[str, object]:
    """One JSON Lines object: the fields scripts rely on, stable names."""
    obs = view.observation
    return {
        "domain": obs.domain,
        "nameserver": obs.server.label,
        "address": obs.server.address,
        "port": obs.server.port,
        "discovered": obs.server.discovered,
        "status": obs.status.value,
        "mx": [str(entry) for entry in obs.mx],
        "ttl": obs.ttl,
        "serial": obs.serial,
        "aa": obs.aa,
        "rtt_ms": None if obs.rtt is None else round(obs.rtt * 1000, 1),
        "tcp": obs.tcp,
        "state": view.state,
        "changed": view.changed,
        "detail": obs.detail,
        "nsid": obs.nsid,
        "rrsig_expires": None if obs.rrsig_expires is None else _iso(obs.rrsig_expires),
        "observed_at": _iso(obs.observed_at),
        "round": round_number,
    }


def observation_line(view: PairView) -> str:
    """`example.com.  600  IN MX 10 mail.new-host.net.  @ns3.inetu.net  ok 12ms  [new]`."""
    obs = view.observation
    ttl = str(obs.ttl) if obs.ttl is not None and obs.status is Status.OK else "-"
    mx = obs.mx_text() if obs.mx else "-"
    rtt = f" {obs.rtt * 1000:.0f}ms" if obs.rtt is not None else ""
    line = visible(f"{obs.domain}.  {ttl}  IN MX {mx}  @{obs.server.label}  {obs.status.value}{rtt}")
    if obs.tcp:
        line += " tcp"
    if obs.serial is not None:
        line += f"  serial {obs.serial}"
    if obs.rrsig_expires is not None:
        line += f"  signed until {_iso(obs.rrsig_expires)}"
    if obs.nsid:
        line += f"  nsid {obs.nsid}"
    if view.state is not None:
        line += f"  [{view.state}]"
    if obs.detail:
        line += f"  ({visible(obs.detail)})"
    return line


def change_line(before: Observation | None, before_state: str | None, view: PairView) -> str:
    """The highlighted line for a pair that changed since the previous round."""
    obs = view.observation

    def describe(o: Observation, state: str | None) -> str:
        if o.status is not Status.OK:
            return o.status.value
        tag = f"[{state}] " if state else ""
        return f"{tag}{o.mx_text()} TTL {o.ttl}"

    old = describe(before, before_state) if before is not None else "?"
    return f">> {obs.domain} @{obs.server.label} changed: {old} → {describe(obs, view.state)}"


_AUTHORITATIVE = frozenset(status for status in Status if status.authoritative)


@dataclass(frozen=True)
class RoundCounts:
    """One round in numbers: pairs per plan state, answers that serve none of them (`unknown`), failed polls
    (`errors`), changes since the previous round, and the slowest nameserver by its median round trip."""

    round: int
    pairs: int
    states: dict[str, int]
    unknown: int
    errors: int
    changed: int
    statuses: dict[str, int]
    slowest: tuple[str, float] | None
    """The nameserver's label and its median round trip in seconds."""
    seconds: float
    finished_at: float

    @classmethod
    def of(cls, snapshot: Snapshot, states: Iterable[str]) -> RoundCounts:
        by_state = dict.fromkeys(states, 0)
        by_status: dict[Status, int] = {}
        rtts: dict[str, list[float]] = defaultdict(list)
        unknown = errors = changed = 0
        answered = _AUTHORITATIVE
        for view in snapshot.pairs:  # 10,000 views at hosting-company scale: kept to plain lookups
            obs = view.observation
            status = obs.status
            by_status[status] = by_status.get(status, 0) + 1
            if view.changed:
                changed += 1
            if status not in answered:
                errors += 1
            elif view.state in by_state:
                by_state[view.state] += 1
            else:
                unknown += 1
            if obs.rtt is not None:
                rtts[obs.pair.server.label].append(obs.rtt)
        statuses = {status.value: count for status, count in by_status.items()}
        medians = {label: statistics.median(values) for label, values in rtts.items()}
        slowest = max(medians, key=medians.__getitem__) if medians else None
        return cls(snapshot.round, len(snapshot.pairs), by_state, unknown, errors, changed, statuses,
                   None if slowest is None else (slowest, medians[slowest]),
                   snapshot.finished_at - snapshot.started_at, snapshot.finished_at)  # fmt: skip

    def to_json(self) -> dict[str, object]:
        """The JSON object of `--summary --json`: stable names, one object per round."""
        return {
            "round": self.round,
            "pairs": self.pairs,
            "states": self.states,
            "unknown": self.unknown,
            "errors": self.errors,
            "changed": self.changed,
            "statuses": self.statuses,
            "slowest": None
            if self.slowest is None
            else {"nameserver": self.slowest[0], "rtt_ms": round(self.slowest[1] * 1000, 1)},
            "round_ms": round(self.seconds * 1000, 1),
            "observed_at": _iso(self.finished_at),
        }

    def line(self) -> str:
        """`round 3 · 10,000 pairs · old 4,210 · parking 5,790 · unknown 0 · errors 0 · slowest ns2 (31 ms)`."""
        parts = [f"round {self.round}", f"{self.pairs:,} pairs"]
        if self.states:
            parts += [f"{state} {count:,}" for state, count in self.states.items()]
            parts.append(f"unknown {self.unknown:,}")
        else:
            parts.append(f"answered {self.pairs - self.errors:,}")
        parts.append(f"errors {self.errors:,}")
        if self.changed:
            parts.append(f"changed {self.changed:,}")
        if self.slowest is not None:
            parts.append(f"slowest {visible(self.slowest[0])} ({self.slowest[1] * 1000:.0f} ms)")
        return " · ".join(parts)


def summary_line(snapshot: Snapshot, states: Iterable[str]) -> str:
    return RoundCounts.of(snapshot, states).line()


class _Printer:
    def __init__(self, as_json: bool, color: bool | None, *, summary: bool = False, states: Iterable[str] = ()) -> None:
        self.as_json = as_json
        self.color = color
        self.summary = summary
        self.states = tuple(states)
        self.previous: dict[Pair, PairView] = {}

    def round(self, snapshot: Snapshot, until: str | None) -> None:
        if self.summary:
            self._summary(snapshot)
            return
        if not self.as_json:
            counts: dict[str, int] = {}
            for view in snapshot.pairs:
                counts[view.observation.status.value] = counts.get(view.observation.status.value, 0) + 1
            summary = ", ".join(f"{n} {status}" for status, n in counts.items())
            extra = f"; {snapshot.count(until)}/{len(snapshot.pairs)} serve {until}" if until else ""
            click.echo(f";; round {snapshot.round} at {_iso(snapshot.finished_at)}: {summary}{extra}", color=self.color)
        for view in snapshot.pairs:
            if self.as_json:
                click.echo(json.dumps(observation_json(view, snapshot.round), separators=(",", ":")))
                continue
            click.echo(observation_line(view), color=self.color)
            if view.changed:
                before = self.previous.get(view.pair)
                text = change_line(before.observation if before else None, before.state if before else None, view)
                click.echo(click.style(text, fg="yellow", bold=True), color=self.color)
        if not self.as_json:
            for split in snapshot.serial_splits():
                click.echo(click.style(f";; serials differ: {visible(str(split))}", fg="yellow"), color=self.color)
        self.previous = {view.pair: view for view in snapshot.pairs}

    def _summary(self, snapshot: Snapshot) -> None:
        """One line (or one JSON object) per round; the failed pairs and serial splits named, a few of each."""
        if self.as_json:
            click.echo(json.dumps(RoundCounts.of(snapshot, self.states).to_json(), separators=(",", ":")))
            return
        click.echo(summary_line(snapshot, self.states), color=self.color)
        failures = snapshot.failures()
        if failures:
            named = ", ".join(f"{view.pair} {view.observation.status.value}" for view in failures[:NAMED_FAILURES])
            more = f" (+{len(failures) - NAMED_FAILURES:,} more)" if len(failures) > NAMED_FAILURES else ""
            click.echo(click.style(visible(f";; failed: {named}{more}"), fg="yellow"), color=self.color)
        splits = snapshot.serial_splits()
        if splits:
            named = "; ".join(str(split) for split in splits[:NAMED_FAILURES])
            more = f" (+{len(splits) - NAMED_FAILURES:,} more)" if len(splits) > NAMED_FAILURES else ""
            click.echo(click.style(visible(f";; serials differ: {named}{more}"), fg="yellow"), color=self.color)


def _parse_seconds(value: str | None, option: str) -> float | None:
    if value is None:
        return None
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        fail(f"cockpit watch: {option}: {exc}")
    if seconds <= 0:
        fail(f"cockpit watch: {option} must be more than zero")
    return seconds


def _domains(targets: tuple[str, ...]) -> tuple[str, ...]:
    domains: list[str] = []
    for target in targets:
        try:
            name = normalize_hostname(target).rstrip(".")
        except ValueError as exc:
            fail(f"cockpit watch: {exc} (give a plan file, or domain names)")
        if "." not in name:
            fail(f"cockpit watch: {target!r} is not a domain name (it has no dot)")
        domains.append(name)
    return tuple(dict.fromkeys(domains))


def _nameservers(values: tuple[str, ...]) -> tuple[Nameserver, ...]:
    servers: list[Nameserver] = []
    for value in values:
        try:
            servers.append(Nameserver.model_validate(value))
        except ValueError as exc:
            message = str(exc).splitlines()[-1].strip() if str(exc) else "invalid"
            fail(f"cockpit watch: --ns {value!r}: {message}")
    return tuple(servers)


def _is_plan(targets: tuple[str, ...]) -> bool:
    return len(targets) == 1 and (Path(targets[0]).is_file() or targets[0].endswith((".yaml", ".yml")))


async def _watch(
    plan: Plan | None,
    domains: tuple[str, ...],
    nameservers: tuple[Nameserver, ...],
    *,
    interval: float,
    once: bool,
    until: str | None,
    timeout: float | None,
    printer: _Printer,
    summary: bool | None,
) -> int:
    try:
        pairs = await watch_pairs(domains, nameservers)
    except DiscoveryError as exc:
        click.echo(f"cockpit watch: {exc}", err=True)
        return EXIT_BAD_INPUT
    printer.summary = len(pairs) > SUMMARY_ABOVE if summary is None else summary
    collector.settle()
    settings = plan.dns if plan is not None else None
    watcher = DnsWatcher(
        pairs,
        states=plan.mx_states if plan is not None else None,
        interval=interval,
        timeout=settings.timeout if settings else DEFAULT_QUERY_TIMEOUT,
        concurrency=settings.concurrency if settings else 64,
    )
    try:
        async with asyncio.timeout(timeout):
            while True:
                snapshot = await watcher.poll_round()
                printer.round(snapshot, until)
                if once:
                    return EXIT_DONE if snapshot.all_authoritative() else EXIT_FAILED
                if until is not None and snapshot.converged(until):
                    return EXIT_DONE
                await asyncio.sleep(interval)
    except TimeoutError:
        if until is not None:
            click.echo(f"cockpit watch: not every pair serves {until} after {timeout:g}s", err=True)
            return EXIT_FAILED
        return EXIT_DONE
    finally:
        await watcher.close()


@click.command()
@click.argument("targets", nargs=-1, required=True, metavar="PLAN | DOMAIN...")
@click.option("--ns", "ns", multiple=True, metavar="NS", help="Nameserver to ask: host, ip, host:port or [v6]:port.")
@click.option("--interval", metavar="S", help="Pause between rounds (e.g. 5s, 1m); default the plan's, or 60s.")
@click.option("--once", is_flag=True, help="One round; exit 0 when every pair answered authoritatively, else 1.")
@click.option("--until", metavar="STATE", help="Exit 0 once every pair serves the plan's MX STATE (needs a plan).")
@click.option("--timeout", metavar="S", help="Give up after S; with --until exit 1, otherwise exit 0.")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines, one object per pair (or per round) per round.")
@click.option("--summary", is_flag=True, help="One line per round: pairs per MX state, errors, the slowest server.")
@click.option("--pairs", "per_pair", is_flag=True, help=f"One line per pair even above {SUMMARY_ABOVE} pairs.")
def watch(
    targets: tuple[str, ...],
    ns: tuple[str, ...],
    interval: str | None,
    once: bool,
    until: str | None,
    timeout: str | None,
    as_json: bool,
    summary: bool,
    per_pair: bool,
) -> None:
    """Ask every authoritative nameserver for the MX of PLAN's domains (or DOMAIN...), round after round."""
    plan: Plan | None = None
    if _is_plan(targets):
        plan = load_plan_or_exit(targets[0]).plan
        domains = plan.domains
    else:
        domains = _domains(targets)
    if once and until is not None:
        fail("cockpit watch: --once and --until exclude each other")
    if summary and per_pair:
        fail("cockpit watch: --summary and --pairs exclude each other")
    if until is not None:
        if plan is None:
            fail("cockpit watch: --until STATE needs a plan (the plan names the MX states)")
        assert plan is not None
        if until not in plan.mx:
            fail(f"cockpit watch: --until {until!r}: the plan's MX states are {', '.join(plan.mx)}")
    nameservers = _nameservers(ns) if ns else (plan.nameservers if plan is not None else ())
    default_interval = plan.dns.interval if plan is not None else DEFAULT_INTERVAL
    pause = _parse_seconds(interval, "--interval") or default_interval
    limit = _parse_seconds(timeout, "--timeout")
    printer = _Printer(as_json, color=None, states=plan.mx if plan is not None else ())
    mode = True if summary else False if per_pair else None
    try:
        code = asyncio.run(
            _watch(
                plan,
                domains,
                nameservers,
                interval=pause,
                once=once,
                until=until,
                timeout=limit,
                printer=printer,
                summary=mode,
            )
        )
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(code)
