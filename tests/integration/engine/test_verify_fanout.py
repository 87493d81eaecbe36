"""`verify` over a store of more than one batch of mailboxes, through real runs on the lab's SSH hosts: exactly
the mailboxes that differ fail (one missing a message, one holding an extra copy), and a retry after the fix
compares only them; a mailbox found equal in the first attempt is not compared again by the retry (a change
there goes unseen until a run compares every mailbox again)."""

from __future__ import annotations

import re
from pathlib import Path

from cockpit.engine.journal import journal_path
from tests.integration.engine.child import records
from tests.integration.engine.conftest import MethodLab, cockpit

USERS = [f"u{i:03d}" for i in range(260)]
"""One batch of 250 mailboxes and one of 10."""
MISSING, DOUBLED, LATER = "u007", "u255", "u100"


def message(user: str, n: int) -> bytes:
    return (
        f"From: s{n}@example.org\nTo: {user}@example.com\nMessage-ID: <{user}.{n}@example.org>\n\nmail {n}\n".encode()
    )


def put(root: Path, user: str, n: int, copy: int = 0) -> Path:
    box = root / "home" / user / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True, exist_ok=True)
    path = box / "cur" / f"{1_700_000_000 + n}.M{n}C{copy}P1.lab:2,S"
    path.write_bytes(message(user, n))
    return path


def write_plan(lab: MethodLab, name: str = "plan.yaml") -> Path:
    old, new = lab.old.sandbox, lab.new.sandbox
    plan = lab.write_plan(
        "  - name: check\n    steps:\n      - verify: {from: old-home, to: new-home}\n        id: check\n",
        name=name,
    )
    plan.write_text(plan.read_text().replace("phases:\n", f"""stores:
  old-home: {{host: old, format: maildir, path: "{old}/home/{{user}}/Maildir"}}
  new-home: {{host: new, format: maildir, path: "{new}/home/{{user}}/Maildir"}}
phases:
"""))  # fmt: skip
    return plan


async def test_only_differing_mailboxes_fail_and_a_retry_compares_only_them(method_lab: MethodLab) -> None:
    lab = method_lab
    for user in USERS:
        for n in (1, 2):
            put(lab.old.sandbox, user, n)
            put(lab.new.sandbox, user, n)
    lost = next((lab.new.sandbox / "home" / MISSING / "Maildir" / "cur").iterdir())
    lost.unlink()
    put(lab.new.sandbox, DOUBLED, 2, copy=1)
    plan = write_plan(lab)

    first = await cockpit("run", str(plan), "--headless", "--yes", cwd=lab.root, timeout=300)
    assert first.code == 1, first.stdout + first.stderr
    assert "260 mailboxes of old-home in 2 batches, 4 at once" in first.stdout
    failed = [line for line in first.stdout.splitlines() if "[check] failed" in line]
    assert failed and re.search(rf"258 done, 2 failed: ({MISSING}|{DOUBLED}) \(.+\), ({MISSING}|{DOUBLED}) \(.+\)$",
                                failed[-1]), failed  # fmt: skip
    journal = records(journal_path(plan))
    reasons = {r["item"]: r["reason"] for r in journal if r["type"] == "ItemFailed"}
    assert set(reasons) == {MISSING, DOUBLED}, reasons
    assert "1 missing" in reasons[MISSING], reasons
    assert len({r["item"] for r in journal if r["type"] == "ItemDone"}) == 258

    put(lab.new.sandbox, MISSING, int(lost.name.split(".")[0]) - 1_700_000_000)  # the fix: the message back,
    next((lab.new.sandbox / "home" / DOUBLED / "Maildir" / "cur").glob("*C1P1*")).unlink()  # the extra copy gone
    next((lab.new.sandbox / "home" / LATER / "Maildir" / "cur").iterdir()).unlink()  # found equal before: unseen
    again = await cockpit("run", str(plan), "--headless", "--yes", "--decide", "check=retry", cwd=lab.root,
                          timeout=300)  # fmt: skip
    assert again.code == 0, again.stdout + again.stderr
    verdict = "all 4 messages of old-home are on new-home exactly as often (260 done (258 in an earlier attempt)"
    assert f"[check] done: {verdict} mailboxes)" in again.stdout, again.stdout
    retried = [r for r in records(journal_path(plan)) if r["type"] == "ItemDone" and r["attempt"] == 2]
    assert {r["item"] for r in retried} == {MISSING, DOUBLED}, "the retry compared only the two failed mailboxes"

    fresh = write_plan(lab, "again.yaml")  # a run of its own compares every mailbox
    rerun = await cockpit("run", str(fresh), "--headless", "--yes", cwd=lab.root, timeout=300)
    assert rerun.code == 1, rerun.stdout + rerun.stderr
    failed = [line for line in rerun.stdout.splitlines() if "[check] failed" in line]
    assert failed and re.search(rf"259 done, 1 failed: {LATER} \(.*1 missing\)$", failed[-1]), failed
