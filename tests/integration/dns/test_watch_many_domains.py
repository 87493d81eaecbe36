"""`cockpit watch --once` on a whole server's plan: 600 domains from a domains file on two lab nameservers
(real DNS over UDP on loopback), MX states with records of their own for some domains, and the round
summarised as one line (or one JSON object) of counts per state."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cockpit.commands.check import check
from cockpit.commands.watch import watch
from cockpit.lab.dns_zone import LabZone
from cockpit.lab.nameserver import LabNameserver

DOMAINS = 600
PARKED = 100
"""d0 … d99 serve the parking MX already, the others the old one."""
LEGACY = "d7.example"
"""Its parking MX is a host of its own, and the zone serves that."""
EXPECTED_LEGACY = "d150.example"
"""The plan says its old MX is a legacy host, but the zone serves the common one: none of its states."""

OLD = (10, "mail.old-host.net.")
PARKING = (10, "parked.new-host.net.")
LEGACY_PARKING = (10, "parked.legacy.example.")

PLAN = """\
version: 1
name: Move a whole server
domains_file: lists/domains.txt
nameservers: {nameservers}
dns: {{interval: 1s, timeout: 2s, concurrency: 256}}
mx:
  old: {{default: "10 mail.old-host.net.", per_domain: {{d150.example: "10 mx.legacy.example."}}}}
  parking: {{default: "10 parked.new-host.net.", per_domain: {{d7.example: "10 parked.legacy.example."}}}}
  new: "10 mail.new-host.net."
phases:
  - name: during
    steps:
      - wait_dns: {{mx: parking}}
"""


def _zone(index: int) -> LabZone:
    domain = f"d{index}.example"
    mx = OLD if index >= PARKED else LEGACY_PARKING if domain == LEGACY else PARKING
    return LabZone.build(domain, mx=[mx], serial=index + 1)


class _TwoNameservers:
    """Two lab nameservers serving the same zones, on an event loop in a thread (the CLI runs its own)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.servers = [LabNameserver([_zone(i) for i in range(DOMAINS)]) for _ in range(2)]
        for server in self.servers:
            asyncio.run_coroutine_threadsafe(server.start(), self.loop).result(timeout=30)

    def close(self) -> None:
        for server in self.servers:
            asyncio.run_coroutine_threadsafe(server.stop(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture(scope="module")
def nameservers() -> Iterator[_TwoNameservers]:
    lab = _TwoNameservers()
    try:
        yield lab
    finally:
        lab.close()


@pytest.fixture
def plan(tmp_path: Path, nameservers: _TwoNameservers) -> str:
    (tmp_path / "lists").mkdir()
    listing = "".join(f"d{i}.example\n" for i in range(DOMAINS))
    (tmp_path / "lists" / "domains.txt").write_text(f"# every domain of the server\n{listing}")
    servers = "[" + ", ".join(f'"127.0.0.1:{server.port}"' for server in nameservers.servers) + "]"
    path = tmp_path / "plan.yaml"
    path.write_text(PLAN.format(nameservers=servers))
    return str(path)


def _run(command: object, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(command, list(args), catch_exceptions=False)  # type: ignore[arg-type]
    return result.exit_code, result.stdout, result.stderr


def test_check_summarises_records_per_domain(plan: str) -> None:
    code, out, _ = _run(check, plan)
    assert code == 0
    lines = out.splitlines()
    assert "600 domains (from lists/domains.txt), 2 nameservers" in lines[0]
    assert lines[1:] == [
        "  old: 599 domains 10 mail.old-host.net., 1 domain 10 mx.legacy.example. (d150.example)",
        "  parking: 599 domains 10 parked.new-host.net., 1 domain 10 parked.legacy.example. (d7.example)",
        "  new: 10 mail.new-host.net.",
    ]


def test_once_summarises_a_round_of_many_pairs(plan: str) -> None:
    code, out, _ = _run(watch, plan, "--once")
    assert code == 0, out
    (line,) = out.splitlines()
    # d150.example serves the common old MX on both servers, which its own old state is not: unknown.
    assert re.fullmatch(
        r"round 1 · 1,200 pairs · old 998 · parking 200 · new 0 · unknown 2 · errors 0 · "
        r"slowest 127\.0\.0\.1:\d+ \(\d+ ms\)",
        line,
    ), line


def test_once_json_is_one_object_per_round(plan: str) -> None:
    code, out, _ = _run(watch, plan, "--once", "--json")
    assert code == 0
    (text,) = out.splitlines()
    record = json.loads(text)
    assert record["round"] == 1 and record["pairs"] == 1200
    assert record["states"] == {"old": 998, "parking": 200, "new": 0}
    assert record["unknown"] == 2 and record["errors"] == 0 and record["statuses"] == {"ok": 1200}
    assert record["slowest"]["nameserver"].startswith("127.0.0.1:")


def test_pairs_keeps_one_line_per_pair(plan: str) -> None:
    code, out, _ = _run(watch, plan, "--once", "--pairs")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(";; round 1 at ") and "1200 ok" in lines[0]
    pairs = lines[1:]
    assert len(pairs) == 1200
    legacy = [line for line in pairs if line.startswith(f"{LEGACY}.  ")]
    assert len(legacy) == 2 and all(line.endswith("[parking]") for line in legacy), legacy
    unknown = [line for line in pairs if line.startswith(f"{EXPECTED_LEGACY}.  ")]
    assert len(unknown) == 2 and all(line.endswith("[other]") for line in unknown), unknown


def test_summary_and_pairs_exclude_each_other(plan: str) -> None:
    code, _, err = _run(watch, plan, "--once", "--summary", "--pairs")
    assert code == 2
    assert err.strip() == "cockpit watch: --summary and --pairs exclude each other"


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_check_online_sums_up_many_pairs_per_state(plan: str) -> None:
    code, out, err = _run(check, "--online", plan)
    assert code == 0, out + err
    dns = [line for line in out.splitlines() if " dns " in line]
    assert len(dns) == 3, dns  # one line per state served, biggest first
    assert re.fullmatch(r"  ok   dns     998 of 1,200 pairs: ok  \[old\]  TTL \d+  serial 101–600", dns[0]), dns
    assert (
        "200 of 1,200 pairs: ok  [parking]" in dns[1]
        and "2 of 1,200 pairs: ok  [other]  TTL 3600  serial 151" in dns[2]
    )
    assert out.splitlines()[-1].endswith("online: 1,200 checks, 0 problems; nothing was changed")


def test_check_online_names_the_first_failing_pairs_and_counts_the_rest(plan: str) -> None:
    dead = _free_udp_port()  # a third nameserver address where nothing listens
    text = Path(plan).read_text().replace('nameservers: ["', f'nameservers: ["127.0.0.1:{dead}", "')
    Path(plan).write_text(text)
    code, out, err = _run(check, "--online", plan)
    assert code == 1, out + err
    bad = [line for line in out.splitlines() if line.startswith("  BAD  dns")]
    assert len(bad) == 21, bad
    assert all(f"@127.0.0.1:{dead}: " in line for line in bad[:20]), bad
    counted = re.fullmatch(r"  BAD  dns     580 more pairs fail \((.+)\); --pairs names every one", bad[20])
    assert counted is not None, bad  # refused, or a timeout where the kernel rate-limits its ICMP answers
    assert sum(int(part.split()[1]) for part in counted.group(1).split(", ")) == 580, bad[20]
    assert out.splitlines()[-1].endswith("online: 1,800 checks, 600 problems; nothing was changed")

    code, out, _ = _run(check, "--online", "--pairs", plan)
    assert code == 1
    assert sum(1 for line in out.splitlines() if line.startswith("  BAD  dns")) == 600
    assert sum(1 for line in out.splitlines() if line.startswith("  ok   dns")) == 1200
