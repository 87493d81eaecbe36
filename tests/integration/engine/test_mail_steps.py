"""The mail steps in a run: a plan with `stores:` takes an inventory, pre-copies mbox spools into Maildirs,
copies the delta after new mail arrived, and verifies; the journal keeps each pass's volume and the verdict, the
report shows them, and a message deleted on the new host makes verify fail naming its mailbox."""

from __future__ import annotations

import mailbox
from pathlib import Path

from cockpit.engine.journal import journal_path
from tests.integration.engine.child import records
from tests.integration.engine.conftest import MethodLab, cockpit
from tests.integration.mail.corpus import contents_only, hostile_messages, maildir_contents, mbox_contents, write_mbox


def phases(old: Path, new: Path) -> str:
    return """\
  - name: before
    steps:
      - inventory: old-spool
        id: look
      - sync: {from: old-spool, to: new-home}
        id: pre-copy
      - confirm: New mail has arrived on old
        id: more-mail
      - sync: {from: old-spool, to: new-home}
        id: delta
      - verify: {from: old-spool, to: new-home}
        id: check
"""


def stores(old: Path, new: Path) -> str:
    return f"""stores:
  old-spool: {{host: old, format: mbox, path: "{old}/var/mail/{{user}}"}}
  new-home: {{host: new, format: maildir, path: "{new}/home/{{user}}/Maildir"}}
"""


async def test_inventory_sync_delta_and_verify_in_a_run(method_lab: MethodLab) -> None:
    old, new = method_lab.old.sandbox, method_lab.new.sandbox
    corpus = hostile_messages()
    write_mbox(old / "var/mail/alice", corpus[:7])
    write_mbox(old / "var/mail/bob", corpus[7:])
    plan = method_lab.write_plan(phases(old, new))
    plan.write_text(plan.read_text().replace("phases:\n", stores(old, new) + "phases:\n"))
    first = await cockpit("run", str(plan), "--headless", "--mode", "auto", cwd=method_lab.root, stdin=b"y\nn\n")
    assert "[more-mail] awaiting-confirmation" in first.stdout, first.stdout + first.stderr
    assert "[look] done: old-spool: 13 messages" in first.stdout and "2 mailboxes" in first.stdout
    write_mbox(old / "var/mail/bob", [b"From: late@example.com\nSubject: late\nMessage-ID: <late@x>\n\nlate\n"], 13)
    second = await cockpit("run", str(plan), "--headless", "--mode", "auto", "--yes", cwd=method_lab.root)
    assert second.code == 0, second.stdout + second.stderr
    assert "[delta] done: copied 1 messages" in second.stdout, second.stdout
    assert "[check] done: all 14 messages of old-spool are on new-home exactly as often (2 mailboxes" in second.stdout
    # The comparison is the cockpit's: said once as its own line (not also as the destination host's output).
    said = [line for line in second.stdout.splitlines() if "[check]" in line and "exactly as often" in line]
    assert len(said) == 2 and "cockpit info:" in said[0], said  # the line, then the step's outcome
    # An independent check: every message of each spool is in its Maildir exactly as often.
    for user in ("alice", "bob"):
        spool = mbox_contents(old / "var/mail" / user)
        moved = maildir_contents(new / "home" / user / "Maildir")
        assert set(moved) == {""} and contents_only(moved[""]) == contents_only(spool), user

    journal = records(journal_path(plan))
    passes = [r for r in journal if r["type"] == "SyncPass"]
    assert [p["messages"] for p in passes] == [13, 1]
    verdicts = [r for r in journal if r["type"] == "VerifyDone"]
    assert verdicts and verdicts[-1]["ok"] is True
    assert (plan.parent / ".cockpit" / "plan.yaml.sync-old-spool-new-home.state").is_file()
    report = await cockpit("report", str(journal_path(plan)), cwd=method_lab.root)
    assert "## Mail stores" in report.stdout and "all 14 messages of old-spool are on new-home" in report.stdout
    assert "| old-spool | alice |" in report.stdout

    # One message lost on new: verify fails and names the mailbox.
    inbox = mailbox.Maildir(str(new / "home" / "alice" / "Maildir"), create=False)
    inbox.remove(next(iter(inbox.keys())))
    only_verify = method_lab.write_plan(
        "  - name: check\n    steps:\n      - verify: {from: old-spool, to: new-home}\n        id: again\n",
        name="verify.yaml",
    )
    only_verify.write_text(only_verify.read_text().replace("phases:\n", stores(old, new) + "phases:\n"))
    failed = await cockpit("run", str(only_verify), "--headless", "--yes", cwd=method_lab.root)
    assert failed.code == 1
    assert "[again] failed: verify failed" in failed.stdout, failed.stdout
    assert "alice" in failed.stdout and "1 missing" in failed.stdout
