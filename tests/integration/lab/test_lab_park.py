"""The retreat in the lab, as an operator would use it after a finished move: `cockpit park --yes` is refused
while the parking address accepts mail (the demo plan lets the new MTA listen there), and once it refuses again,
parks: every nameserver serves the parking MX, the journal keeps it, the report shows it."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from cockpit.engine.journal import journal_path, read_journal


async def cockpit(*args: str, timeout: float = 180) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cockpit", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_park_after_a_lab_move(tmp_path: Path) -> None:
    folder = tmp_path / "lab"
    lab = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cockpit", "lab", "up", "--dir", str(folder), "--speed", "20", "--smtp-port", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert lab.stdout is not None
    try:
        async with asyncio.timeout(60):
            while not (await lab.stdout.readline()).decode().startswith("Ctrl+C"):
                pass
        plan = folder / "plan.yaml"
        code, out, err = await cockpit("run", str(plan), "--headless", "--yes")
        assert code == 0, out[-3000:] + err

        code, out, err = await cockpit("park", str(plan), "--yes")
        assert code == 1, out + err
        assert "is accepted — parking there would deliver mail" in err, "the new MTA listens on the parking address"

        (folder / "new" / "sandbox" / "mta" / "parking").unlink()  # close the parking address again
        async with asyncio.timeout(30):
            while (folder / "new" / "sandbox" / "mta" / "parking-listening").exists():
                await asyncio.sleep(0.05)
        code, out, err = await cockpit("park", str(plan), "--yes")
        assert code == 0, out + err
        assert ": refused" in out
        assert out.splitlines()[-1].startswith("every nameserver serves the parking MX (")

        records = list(read_journal(journal_path(plan)).records)
        outcomes = [(r["action"], r["outcome"].split(":")[0]) for r in records if r["type"] == "Retreat"]
        assert outcomes == [("park", "refused"), ("park", "done")]
        parked_at = next(r["at"] for r in records if r["type"] == "MxReplaced" and r["step_id"] == "park")
        flipped = {r["nameserver"] for r in records if r["type"] == "DnsFlip" and r["at"] >= parked_at
                   and r["before"] == "new" and r["after"] == "parking"}  # fmt: skip
        assert len(flipped) == 2, f"both lab nameservers were seen to serve parking: {flipped}"
        code, report, err = await cockpit("report", str(journal_path(plan)))
        assert code == 0, err
        assert "park: done" in report and "park: the MX of demo.test 10 mail.new.demo.test. → 10 parked" in report
    finally:
        if lab.returncode is None:
            lab.send_signal(signal.SIGTERM)
            async with asyncio.timeout(60):
                await lab.communicate()
