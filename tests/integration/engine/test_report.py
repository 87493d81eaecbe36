"""`cockpit report` of a whole three-phase run: every step with its times, result and who confirmed it, every
DNS flip per nameserver, and the downtime window measured from the flips (first nameserver serving the
parking MX → every nameserver serving the new one); the HTML form is one self-contained file."""

from __future__ import annotations

import re
import signal
from html.parser import HTMLParser

from cockpit.base.units import format_duration
from cockpit.engine.journal import journal_path
from cockpit.lab.dns_zone import LabZone
from cockpit.lab.nameserver import LabNameserver
from tests.integration.engine.child import Child, eventually, records, wait_record
from tests.integration.engine.conftest import INITIAL_TTL, OLD, MethodLab, cockpit, three_phases

STEP_IDS = [
    "lower-ttl", "ttl-low", "create-store", "bulk-export", "bulk-copy", "bulk-import", "parking-refuses",
    "mx-to-parking", "parking-everywhere", "old-ttl", "delta-export", "delta-copy", "delta-import",
    "mx-to-new", "new-everywhere", "new-listens",
]  # fmt: skip
STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [A-Z+0-9-]+"


class Outside(HTMLParser):
    """Collects every reference to something outside the document."""

    def __init__(self) -> None:
        super().__init__()
        self.references: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "srcset", "data", "action", "poster") or (value and "url(" in value):
                self.references.append(f"<{tag} {name}={value}>")
        if tag in ("link", "script", "iframe", "object", "embed", "img"):
            self.references.append(f"<{tag}>")


async def test_report_of_a_three_phase_run(method_lab: MethodLab) -> None:
    plan = method_lab.write_plan(three_phases(method_lab))
    run = await cockpit("run", str(plan), "--headless", "--yes", cwd=method_lab.root)
    assert run.code == 0, run.stdout + run.stderr
    journal = journal_path(plan)
    recs = records(journal)

    md = await cockpit("report", str(journal), "--format", "md", cwd=method_lab.root)
    assert md.code == 0, md.stderr
    text = md.stdout
    print("\n" + text)
    assert "- Outcome: done (exit 0)" in text

    # Each step: started, ended, duration, result, who confirmed it.
    rows = {cells[0]: cells for cells in _table(text, "| step |")}
    assert list(rows) == STEP_IDS
    for step_id, (_, _title, started, ended, duration, result, confirmed) in rows.items():
        assert re.fullmatch(STAMP, started) and re.fullmatch(STAMP, ended), (step_id, started, ended)
        assert started <= ended
        assert duration not in ("", "—"), step_id
        assert result == "done", (step_id, result)
        assert confirmed == "--yes", (step_id, confirmed)

    # Every flip the journal holds, per nameserver, in order.
    flips = [r for r in recs if r["type"] == "DnsFlip"]
    flip_rows = _table(text, "| time | domain | nameserver |")
    assert [(row[2], row[3], row[4]) for row in flip_rows] == [
        (f["nameserver"], f["before"] or "—", f["after"]) for f in flips
    ]
    servers = {f["nameserver"] for f in flips}
    assert len(servers) == 2 and {s.split(":")[0] for s in servers} == {"ns1.example.com", "ns2.example.com"}
    for server in servers:
        path = [f["after"] for f in flips if f["nameserver"] == server]
        assert path[-2:] == ["parking", "new"], (server, path)

    # The downtime window: first nameserver on parking → every nameserver on new; positive and inside the run.
    start = min(f["at"] for f in flips if f["after"] == "parking")
    end = max(f["at"] for f in flips if f["after"] == "new")
    assert start < end
    window = re.search(r"- Downtime window: (.+)", text)
    assert window is not None, text
    assert window.group(1).startswith(f"{format_duration(end - start)}, from "), window.group(1)
    first_parking = next(f for f in flips if f["after"] == "parking")
    assert first_parking["at"] == start

    html = await cockpit("report", str(journal), "--format", "html", cwd=method_lab.root)
    assert html.code == 0, html.stderr
    page = html.stdout
    assert page.lstrip().lower().startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    parser = Outside()
    parser.feed(page)
    assert parser.references == [], parser.references
    assert "@import" not in page and "url(" not in page
    assert "<style>" in page and "Downtime window" in page and format_duration(end - start) in page
    for step_id in STEP_IDS:
        assert f"<td>{step_id}</td>" in page


def _table(text: str, header: str) -> list[list[str]]:
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[at + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


STUCK = """\
  - name: only
    steps:
      - dns_update: {server: "127.0.0.1:PRIMARY", key: dnskey, mx: parking}
        id: mx-to-parking
      - countdown: 1s
        id: settle
      - dns_update: {server: "127.0.0.1:PRIMARY", key: dnskey, mx: new}
        id: mx-to-new
      - wait_dns: {mx: new}
        id: new-everywhere
        timeout: 3s
"""


async def test_downtime_window_stays_open_while_a_nameserver_never_moved(method_lab: MethodLab) -> None:
    # A third nameserver that keeps serving the old MX, the way a forgotten secondary does: it never flips.
    async with LabNameserver([LabZone.build("example.com", mx=OLD, mx_ttl=INITIAL_TTL, serial=1)]) as stuck:
        text = method_lab.plan_text(STUCK.replace("PRIMARY", str(method_lab.primary.port)))
        text = text.replace(
            "nameservers:\n",
            f"nameservers:\n  - {{name: ns3.example.com, address: 127.0.0.1, port: {stuck.port}}}\n",
        )
        plan = method_lab.root / "plan.yaml"
        plan.write_text(text)
        run = await cockpit("run", str(plan), "--headless", "--yes", cwd=method_lab.root)
    assert run.code == 1, run.stdout + run.stderr
    assert "timed out" in run.stdout
    journal = journal_path(plan)
    flips = [r for r in records(journal) if r["type"] == "DnsFlip"]
    assert {f["nameserver"].split(":")[0] for f in flips} == {"ns1.example.com", "ns2.example.com"}
    for server in ("ns1.example.com", "ns2.example.com"):
        assert [f["after"] for f in flips if f["nameserver"].startswith(server)] == ["parking", "new"], flips

    md = await cockpit("report", str(journal), cwd=method_lab.root)
    assert md.code == 0, md.stderr
    window = re.search(r"- Downtime window: (.+)", md.stdout)
    assert window is not None and "still open" in window.group(1), md.stdout
    assert "ns3.example.com" in window.group(1) and "old" in window.group(1), window.group(1)


async def test_flips_while_the_cockpit_was_down_close_the_window(method_lab: MethodLab) -> None:
    plan = method_lab.write_plan(three_phases(method_lab))
    journal = journal_path(plan)
    child = await Child.start("run", str(plan), "--headless", "--yes", cwd=method_lab.root)
    await wait_record(
        journal,
        lambda r: r.get("type") == "StepChanged" and r["step_id"] == "mx-to-new" and r["state"] == "done",
        child,
    )
    assert await child.kill() == -signal.SIGKILL
    # Both nameservers serve the new MX before a cockpit watches again: no one saw them flip.
    await eventually(
        lambda: all(
            method_lab.served_mx(ns)[0] == "10 mail.new-host.net." for ns in (method_lab.primary, method_lab.secondary)
        ),
        "both nameservers serve the new MX",
    )
    resumed = await cockpit("run", str(plan), "--headless", "--yes", cwd=method_lab.root)
    assert resumed.code == 0, resumed.stdout + resumed.stderr

    md = await cockpit("report", str(journal), cwd=method_lab.root)
    assert md.code == 0, md.stderr
    window = re.search(r"- Downtime window: (.+)", md.stdout)
    assert window is not None and "still open" not in window.group(1), md.stdout
    assert re.match(rf".+, from {STAMP} to {STAMP}$", window.group(1)), window.group(1)
    assert "flipped while no cockpit watched" in md.stdout, md.stdout
    flip_rows = _table(md.stdout, "| time | domain | nameserver |")
    for server in ("ns1.example.com", "ns2.example.com"):
        assert [row[4] for row in flip_rows if row[2].startswith(server)][-1] == "new", md.stdout
