"""`stores:` and the mail steps (inventory, sync, verify): valid shapes and every located error."""

from __future__ import annotations

import pytest

from cockpit.plan import InventoryStep, PlanError, SyncStep, VerifyStep, parse_plan

BASE = """\
version: 1
name: Mail stores
domains: [example.com]
mx: {old: a.example.net., new: b.example.net.}
hosts:
  old: {address: old.example.net}
  new: {address: new.example.net}
stores:
  old-spool: {host: old, format: mbox, path: "/var/mail/{user}"}
  new-home: {host: new, format: maildir, path: "/home/{user}/Maildir", users: [alice, bob]}
phases:
  - name: before
    steps:
      - inventory: old-spool
      - sync: {from: old-spool, to: new-home}
      - verify: {from: old-spool, to: new-home}
"""


def errors(text: str) -> list[str]:
    with pytest.raises(PlanError) as info:
        parse_plan(text, "p.yaml")
    return [str(issue) for issue in info.value.issues]


def test_stores_and_mail_steps_load() -> None:
    plan = parse_plan(BASE, "p.yaml")
    assert plan.stores["new-home"].users == ("alice", "bob")
    steps = [step for _, step in plan.steps()]
    assert isinstance(steps[0], InventoryStep) and steps[0].store == "old-spool"
    assert isinstance(steps[1], SyncStep) and (steps[1].source, steps[1].dest) == ("old-spool", "new-home")
    assert steps[1].side_effects and steps[1].idempotent, "a sync copies only what is missing: safe to rerun"
    assert isinstance(steps[2], VerifyStep) and not steps[2].side_effects
    assert steps[1].describe() == "Copy the mail of old-spool that new-home lacks"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "inventory: old-spool",
            "inventory: old-spoool",
            "p.yaml:14:20: step 1 of phase 'before': unknown store 'old-spoool' (stores: old-spool, new-home)",
        ),
        (
            "sync: {from: old-spool, to: new-home}",
            "sync: {from: old-spool, to: old-spool}",
            "p.yaml:15:37: step 2 of phase 'before': 'from' and 'to' name the same store 'old-spool'",
        ),
        (
            "{host: old, format: mbox,",
            "{host: older, format: mbox,",
            "p.yaml:9:21: stores.old-spool.host: unknown host 'older' (hosts: old, new)",
        ),
        (
            'path: "/var/mail/{user}"',
            'path: "var/mail/{user}"',
            "p.yaml:9:14: stores.old-spool: path 'var/mail/{user}' must be absolute (or start with ~)",
        ),
        (
            'path: "/var/mail/{user}"',
            'path: "/var/mail/{login}"',
            "p.yaml:9:14: stores.old-spool: path '/var/mail/{login}': unknown placeholder {login} (use {user} or "
            "{domain})",
        ),
        (
            'path: "/var/mail/{user}"',
            'path: "/var/mail/../{user}"',
            "p.yaml:9:14: stores.old-spool: path '/var/mail/../{user}' must not hold '.' or '..' parts",
        ),
        (
            "users: [alice, bob]",
            "users: [alice, bob], users_file: users.txt",
            "p.yaml:10:13: stores.new-home: give 'users' or 'users_file', not both",
        ),
        (
            "users: [alice, bob]",
            "users: [alice, ../bob]",
            "p.yaml:10:13: stores.new-home: user '../bob' is not a mailbox name (letters, digits, '.', '_', '+', '-')",
        ),
        ("format: mbox", "format: mh", None),
    ],
)
def test_store_and_mail_step_errors(old: str, new: str, message: str | None) -> None:
    assert old in BASE
    found = errors(BASE.replace(old, new))
    if message is None:
        assert len(found) == 1 and "format" in found[0] and "'mbox' or 'maildir'" in found[0], found
    else:
        assert found == [message]
