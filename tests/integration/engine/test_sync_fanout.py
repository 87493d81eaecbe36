"""`sync` over a store of more than one batch of mailboxes, through real runs on the lab's SSH hosts: two
mailboxes that cannot be written on the destination fail alone and are named, a retry after the fix copies
only them, a verify then passes; the delta pass after the batched first pass copies only what is new; and a
kill -9 in the middle of a batched sync, then a resume, leaves every message on the destination exactly once.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from cockpit.engine.journal import journal_path
from tests.integration.engine.child import Child, eventually, records, wait_record
from tests.integration.engine.conftest import MethodLab, cockpit
from tests.integration.mail.corpus import contents_only, maildir_contents

USERS = [f"u{i:03d}" for i in range(260)]
"""One batch of 250 mailboxes and one of 10."""
MANY = [f"u{i:03d}" for i in range(500)]
"""Two batches of 250: a kill once the first is journaled lands while the second is copied."""
BLOCKED = ("u007", "u123")
"""Nothing can be written to their destination mailbox: a plain file where u007's Maildir should be, and
where u123's home directory should be."""


def message(user: str, n: int) -> bytes:
    return (
        f"From: s{n}@example.org\nTo: {user}@example.com\nMessage-ID: <{user}.{n}@example.org>\n\nmail {n}\n".encode()
    )


def deliver(old: Path, user: str, n: int) -> None:
    box = old / "home" / user / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True, exist_ok=True)
    (box / "cur" / f"{1_700_000_000 + n}.M{n}P1.old:2,S").write_bytes(message(user, n))


def stores(lab: MethodLab) -> str:
    old, new = lab.old.sandbox, lab.new.sandbox
    return f"""stores:
  old-home: {{host: old, format: maildir, path: "{old}/home/{{user}}/Maildir"}}
  new-home: {{host: new, format: maildir, path: "{new}/home/{{user}}/Maildir"}}
"""


def write_plan(lab: MethodLab, steps: str) -> Path:
    plan = lab.write_plan(f"  - name: move\n    steps:\n{steps}")
    plan.write_text(plan.read_text().replace("phases:\n", stores(lab) + "phases:\n"))
    return plan


def each_message_once(lab: MethodLab, users: list[str] = USERS) -> None:
    """An independent check: every mailbox of old is in its Maildir on new, each message exactly once."""
    for user in users:
        source = contents_only(maildir_contents(lab.old.sandbox / "home" / user / "Maildir")[""])
        moved = contents_only(maildir_contents(lab.new.sandbox / "home" / user / "Maildir")[""])
        assert moved == source and set(moved.values()) == {1}, user


def passes(plan: Path) -> list[dict[str, object]]:
    return [r for r in records(journal_path(plan)) if r["type"] == "SyncPass"]


async def test_unwritable_mailboxes_fail_alone_a_retry_copies_them_and_a_delta_only_new_mail(
    method_lab: MethodLab,
) -> None:
    lab = method_lab
    for user in USERS:
        deliver(lab.old.sandbox, user, 1)
        deliver(lab.old.sandbox, user, 2)
    blocks = [lab.new.sandbox / "home" / "u007" / "Maildir", lab.new.sandbox / "home" / "u123"]
    for block in blocks:
        block.parent.mkdir(parents=True, exist_ok=True)
        block.write_text("not a directory\n")
    plan = write_plan(
        lab,
        """      - sync: {from: old-home, to: new-home}
        id: copy
      - verify: {from: old-home, to: new-home}
        id: check
      - confirm: New mail has arrived on old
        id: more-mail
      - sync: {from: old-home, to: new-home}
        id: delta
        concurrency: 2
      - verify: {from: old-home, to: new-home}
        id: check-again
""",
    )
    first = await cockpit("run", str(plan), "--headless", "--yes", cwd=lab.root, timeout=300)
    assert first.code == 1, first.stdout + first.stderr
    failed = [line for line in first.stdout.splitlines() if "[copy] failed" in line]
    assert failed and re.search(r"258 done, 2 failed: u(007|123) \(.+\), u(007|123) \(.+\)$", failed[-1]), failed
    assert "u007" in failed[-1] and "u123" in failed[-1]
    assert "260 mailboxes of old-home in 2 batches, 4 at once" in first.stdout
    journal = records(journal_path(plan))
    reasons = {r["item"]: r["reason"] for r in journal if r["type"] == "ItemFailed"}
    assert set(reasons) == set(BLOCKED), reasons
    assert str(blocks[0]) in reasons["u007"] and str(blocks[1]) in reasons["u123"], reasons
    assert len({r["item"] for r in journal if r["type"] == "ItemDone"}) == 258
    assert passes(plan) == [], "a pass that did not end has no SyncPass yet"
    untouched = {p: p.stat().st_ino for p in (lab.new.sandbox / "home").glob("u*/Maildir/cur/*")}
    assert len(untouched) == 2 * 258

    for block in blocks:  # the operator frees the two mailboxes
        block.unlink()
    again = await cockpit("run", str(plan), "--headless", "--mode", "auto", "--decide", "copy=retry",
                          cwd=lab.root, stdin=b"n\n", timeout=300)  # fmt: skip
    assert "[copy] done: copied 520 messages" in again.stdout, again.stdout + again.stderr
    assert "the source has 520; mailboxes: 260 done (258 in an earlier attempt)" in again.stdout
    assert "[check] done: all 520 messages of old-home are on new-home exactly as often" in again.stdout
    retried = [r for r in records(journal_path(plan)) if r["type"] == "ItemDone" and r["attempt"] == 2]
    assert {r["item"] for r in retried} == set(BLOCKED), "the retry copied only the two failed mailboxes"
    after = {p: p.stat().st_ino for p in (lab.new.sandbox / "home").glob("u*/Maildir/cur/*")}
    assert {p: after[p] for p in untouched} == untouched and len(after) == 520
    (first_pass,) = passes(plan)
    assert (first_pass["messages"], first_pass["source_messages"]) == (520, 520), "the pass over both attempts"
    each_message_once(lab)

    for user in ("u005", "u249", "u258"):  # new mail in both batches
        deliver(lab.old.sandbox, user, 3)
    delta = await cockpit("run", str(plan), "--headless", "--yes", cwd=lab.root, timeout=300)
    assert delta.code == 0, delta.stdout + delta.stderr
    assert "[delta] done: copied 3 messages" in delta.stdout, delta.stdout
    assert "a delta pass from the last pass's state" in delta.stdout
    assert "[check-again] done: all 523 messages of old-home are on new-home exactly as often" in delta.stdout
    delta_pass = passes(plan)[-1]
    assert (delta_pass["messages"], delta_pass["source_messages"]) == (3, 523)
    each_message_once(lab)


async def test_kill_9_mid_batched_sync_then_resume_copies_each_message_once(method_lab: MethodLab) -> None:
    lab = method_lab
    for user in MANY:
        for n in range(1, 4):
            deliver(lab.old.sandbox, user, n)
    plan = write_plan(lab, "      - sync: {from: old-home, to: new-home}\n        id: copy\n        concurrency: 1\n")
    child = await Child.start("run", str(plan), "--headless", "--yes", cwd=lab.root)
    journal = journal_path(plan)
    await wait_record(journal, lambda r: r["type"] == "ItemDone", child)  # the first batch is done
    second = [lab.new.sandbox / "home" / user / "Maildir" / "cur" for user in MANY[250:]]
    await eventually(lambda: any(cur.is_dir() and any(cur.iterdir()) for cur in second), "the second batch copying")
    assert await child.kill() < 0
    done_before = {r["item"] for r in records(journal) if r["type"] == "ItemDone"}
    assert len(done_before) == 250, "killed while the second batch was being copied"

    resumed = await cockpit("run", str(plan), "--headless", "--yes", "--decide", "copy=rerun", cwd=lab.root,
                            timeout=300)  # fmt: skip
    assert resumed.code == 0, resumed.stdout + resumed.stderr
    done = Counter(r["item"] for r in records(journal) if r["type"] == "ItemDone")
    assert set(done) == set(MANY) and set(done.values()) == {1}, "each mailbox done exactly once"
    each_message_once(lab, MANY)
    (kept,) = passes(plan)
    assert kept["source_messages"] == 3 * len(MANY)


async def test_mailbox_names_a_shell_or_a_pattern_would_misread_are_copied_in_batches_like_any_other(
    method_lab: MethodLab,
) -> None:
    lab = method_lab
    odd = ["john smith", "o'neil", "a;b", "x$y", "tab\there", "-dash", "{domain}", "x{user}", "*", "[ab]", "a?"]
    users = odd + [f"v{i:03d}" for i in range(300)]
    for user in users:
        deliver(lab.old.sandbox, user, 1)
    (lab.old.sandbox / "home" / "a").mkdir()  # would match "[ab]" and "a?" read as patterns: it has no Maildir
    plan = write_plan(
        lab,
        "      - sync: {from: old-home, to: new-home}\n        id: copy\n"
        "      - verify: {from: old-home, to: new-home}\n        id: check\n",
    )
    run = await cockpit("run", str(plan), "--headless", "--yes", cwd=lab.root, timeout=300)
    assert run.code == 0, run.stdout + run.stderr
    count = len(users)
    assert f"{count} mailboxes of old-home in 2 batches" in run.stdout, run.stdout
    assert f"[check] done: all {count} messages of old-home are on new-home exactly as often" in run.stdout
    each_message_once(lab, users)
    moved = {p.name for p in (lab.new.sandbox / "home").iterdir()}
    assert moved == set(users), moved ^ set(users)
