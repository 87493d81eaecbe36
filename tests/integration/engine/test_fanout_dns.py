"""A `dns_update` over hundreds of zones, through the real command line against a real nameserver (RFC 2136
updates signed with a TSIG key): zones the primary refuses fail alone and are named, a retry updates only
them, and a kill -9 in the middle of the fan-out followed by a resume updates each zone once (a zone whose
update was in flight at the kill may be updated once more: replacing an RRset is idempotent)."""

from __future__ import annotations

import base64
import re
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cockpit.engine.events import StepProgress
from cockpit.engine.journal import journal_path
from cockpit.engine.journal_tail import record_event
from cockpit.lab.dns_zone import LabZone
from cockpit.lab.nameserver import LabNameserver, tsig_key
from tests.integration.engine.child import Child, records, wait_record
from tests.integration.engine.conftest import cockpit
from tests.support import isolated_home

SECRET = base64.b64encode(b"fan-out-tsig-secret-0123456789ab").decode()
KEY = "fan-out-key"
DOMAINS = 500
UNSERVED = ("d0137.test", "d0402.test")

PLAN = """\
version: 1
name: Many domains, one flip
domains_file: domains.txt
nameservers: ["127.0.0.1:{port}"]
dns: {{interval: 30s, timeout: 2s}}
ttl: 60
mx:
  old: "10 mail.old-host.net."
  new: "10 mail.new-host.net."
secrets:
  dnskey: {{file: tsig.key}}
phases:
  - name: move
    steps:
      - dns_update: {{server: "127.0.0.1:{port}", key: dnskey, mx: new}}
        id: flip
        concurrency: {concurrency}
"""


def zone(name: str) -> LabZone:
    return LabZone.build(name, mx=[(10, "mail.old-host.net.")], mx_ttl=60, serial=1)


@dataclass
class Lab:
    root: Path
    ns: LabNameserver
    domains: list[str]

    def plan(self, concurrency: int = 16) -> Path:
        path = self.root / "plan.yaml"
        path.write_text(PLAN.format(port=self.ns.port, concurrency=concurrency))
        return path

    def serials(self) -> dict[str, int]:
        """Zone → SOA serial, for the zones the primary serves (each update bumps it by one)."""
        return {d: self.ns.zone(d).serial for d in self.domains if d not in UNSERVED or self.served(d)}

    def served(self, domain: str) -> bool:
        return any(origin.to_text().rstrip(".") == domain for origin in self.ns.zones)


@pytest.fixture
async def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Lab]:
    isolated_home(tmp_path, monkeypatch)
    domains = [f"d{i:04d}.test" for i in range(DOMAINS)]
    (tmp_path / "domains.txt").write_text("".join(f"{d}\n" for d in domains))
    (tmp_path / "tsig.key").write_text(f'key "{KEY}" {{\n\talgorithm hmac-sha256;\n\tsecret "{SECRET}";\n}};\n')
    served = [zone(d) for d in domains if d not in UNSERVED]
    async with LabNameserver(served, keys=[tsig_key(KEY, SECRET)]) as ns:
        yield Lab(tmp_path, ns, domains)


async def test_refused_zones_fail_alone_and_a_retry_updates_only_them(lab: Lab) -> None:
    plan = lab.plan()
    first = await cockpit("run", str(plan), "--headless", "--yes", cwd=lab.root, timeout=300)
    assert first.code == 1, first.stdout + first.stderr
    serials = lab.serials()
    assert len(serials) == DOMAINS - 2 and set(serials.values()) == {2}, "each served zone updated once"
    failed = [line for line in first.stdout.splitlines() if "[flip] failed" in line]
    assert failed[-1].endswith("498 done, 2 failed: d0137.test (REFUSED), d0402.test (REFUSED)"), failed
    item_lines = [line for line in first.stdout.splitlines() if re.search(r"\[flip\] ✗ d\d+\.test", line)]
    assert len(item_lines) == 2, "one line per failed zone"
    assert len(first.stdout.splitlines()) < 60, "no line per zone"
    journal = records(journal_path(plan))
    assert len([r for r in journal if r["type"] == "ItemDone"]) == 498
    assert {r["item"] for r in journal if r["type"] == "ItemFailed"} == set(UNSERVED)
    progress = [r for r in journal if r["type"] == "ItemsProgress"]  # what an observer shows: N of M
    assert progress and len(progress) < 60, "at most one a second, and the last one"
    last = progress[-1]
    assert (last["step_id"], last["done"], last["total"]) == ("flip", 498, 500), last
    assert last["text"] == "498 of 500 zones done · 0 running · 2 failed", last
    replayed = record_event(last)
    assert isinstance(replayed, StepProgress) and replayed.text == last["text"], "an observer's checklist shows it"

    for name in UNSERVED:  # the operator has the primary serve the missing zones
        lab.ns.add_zone(zone(name))
    again = await cockpit("run", str(plan), "--headless", "--yes", "--decide", "flip=retry", cwd=lab.root,
                          timeout=300)  # fmt: skip
    assert again.code == 0, again.stdout + again.stderr
    after = lab.serials()
    assert {d: s for d, s in after.items() if d not in UNSERVED} == serials, "the 498 zones were not touched"
    assert {d: after[d] for d in UNSERVED} == dict.fromkeys(UNSERVED, 2)
    assert "500 done (498 in an earlier attempt)" in again.stdout


async def test_a_resume_after_kill_9_mid_fan_out_updates_each_zone_once(lab: Lab) -> None:
    for name in UNSERVED:
        lab.ns.add_zone(zone(name))
    lab.ns.set_delay(0.01)  # every answer a little late: the kill lands among zones in flight
    plan = lab.plan(concurrency=4)
    child = await Child.start("run", str(plan), "--headless", "--yes", cwd=lab.root)
    journal = journal_path(plan)
    await wait_record(journal, lambda r: r["type"] == "ItemDone" and r["item"] == "d0100.test", child)
    assert await child.kill() < 0
    done_before = {r["item"] for r in records(journal) if r["type"] == "ItemDone"}
    assert 100 <= len(done_before) < DOMAINS

    resumed = await cockpit("run", str(plan), "--headless", "--yes", "--decide", "flip=rerun", cwd=lab.root,
                            timeout=300)  # fmt: skip
    assert resumed.code == 0, resumed.stdout + resumed.stderr
    done = Counter(r["item"] for r in records(journal) if r["type"] == "ItemDone")
    assert set(done) == set(lab.domains) and set(done.values()) == {1}, "each zone done exactly once"
    serials = lab.serials()
    assert all(serials[d] == 2 for d in done_before), "a zone done before the kill was not updated again"
    again = [d for d, serial in serials.items() if serial > 2]
    assert len(again) <= 4 and all(serials[d] == 3 for d in again), "only zones in flight at the kill, once more"
    assert all(serial >= 2 for serial in serials.values())
