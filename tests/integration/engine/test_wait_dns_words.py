"""wait_dns in words a user reads: what it counts, how long of its timeout has passed, and on a timeout which
nameservers are still behind and what they serve."""

from __future__ import annotations

from tests.integration.engine.conftest import MethodLab, cockpit

NEVER = """\
  - name: only
    steps:
      - wait_dns: {mx: parking}
        id: parked
        timeout: 2s
"""


async def test_a_wait_that_times_out_names_the_nameservers_behind(method_lab: MethodLab) -> None:
    plan = method_lab.write_plan(NEVER)
    ran = await cockpit("run", str(plan), "--headless", "--yes", cwd=method_lab.root)
    assert ran.code == 1
    primary, secondary = method_lab.primary.port, method_lab.secondary.port
    assert "[parked] 0 of 2 nameservers serve the parking MX · " in ran.stdout and " of 2s · behind: " in ran.stdout
    failed = next(line for line in ran.stdout.splitlines() if "[parked] failed:" in line)
    assert failed.endswith(f"timed out after 2s; still behind: ns1.example.com:{primary} (old), "
                           f"ns2.example.com:{secondary} (old)"), failed  # fmt: skip
    progress = [line for line in ran.stdout.splitlines() if "[parked]" in line and "nameservers serve" in line]
    assert len(progress) == len(set(progress)), "each round's progress once, not twice"
