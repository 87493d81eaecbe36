"""`countdown: former_ttl` against real nameservers: after the MX TTL is lowered (3 s → 1 s), the countdown ends
when the copies cached with the former TTL have expired: 3 s after the last nameserver was first seen
serving the low TTL. A later run of the same plan computes the same deadline from the journal."""

from __future__ import annotations

from cockpit.engine.journal import journal_path
from tests.integration.engine.child import records
from tests.integration.engine.conftest import INITIAL_TTL, MethodLab, cockpit

PHASES = """\
  - name: before
    steps:
      - dns_update: {server: "127.0.0.1:PRIMARY", key: dnskey, mx: old, ttl: 1}
        id: lower-ttl
      - wait_dns: {ttl_at_most: 1}
        id: ttl-low
      - confirm: Ready to wait
        id: ready
      - countdown: former_ttl
        id: former
"""


def lowered_at(journal_records: list[dict[str, object]]) -> float:
    """When the last pair was first seen serving the low TTL, by the journal."""
    changes = [r for r in journal_records if r["type"] == "DnsTtl" and r["before"] == INITIAL_TTL and r["after"] == 1]
    assert len(changes) == 2, changes  # both nameservers, each seen lowering
    return max(float(r["at"]) for r in changes)  # type: ignore[arg-type]


async def test_former_ttl_counts_from_the_lowering_and_survives_a_restart(method_lab: MethodLab) -> None:
    plan = method_lab.write_plan(PHASES.replace("PRIMARY", str(method_lab.primary.port)))
    journal = journal_path(plan)
    first = await cockpit("run", str(plan), "--headless", "--mode", "auto", cwd=method_lab.root, stdin=b"y\nn\n")
    assert first.code == 1 and "[ready] awaiting-confirmation" in first.stdout, first.stdout + first.stderr
    seen = records(journal)
    lowered = lowered_at(seen)
    assert not [r for r in seen if r["type"] == "CountdownSet"], "stopped before the countdown"

    second = await cockpit("run", str(plan), "--headless", "--mode", "auto", "--yes", cwd=method_lab.root)
    assert second.code == 0, second.stdout + second.stderr
    countdown = next(r for r in records(journal) if r["type"] == "CountdownSet" and r["step_id"] == "former")
    assert countdown["total"] == INITIAL_TTL
    assert countdown["deadline"] == lowered + INITIAL_TTL, (countdown, lowered)
    assert f"former MX TTL {INITIAL_TTL} s, lowered on ns" in str(countdown["why"])


async def test_former_ttl_refuses_while_a_nameserver_still_serves_the_high_ttl(method_lab: MethodLab) -> None:
    phases = PHASES.split("      - confirm: Ready to wait")[0].split("      - dns_update:")[0]
    plan = method_lab.write_plan(phases + "      - countdown: former_ttl\n        id: former\n")
    ran = await cockpit("run", str(plan), "--headless", "--mode", "auto", "--yes", cwd=method_lab.root)
    assert ran.code == 1
    primary, secondary = method_lab.primary.port, method_lab.secondary.port
    assert (f"the MX TTL is still above 1 s at ns1.example.com:{primary} ({INITIAL_TTL} s for example.com), "
            f"ns2.example.com:{secondary} ({INITIAL_TTL} s for example.com)") in ran.stdout, ran.stdout  # fmt: skip
