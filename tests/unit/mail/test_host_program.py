"""The host program run locally with python3 on temporary stores: inventory, send and receive, and the
checks of their output with Python's own `mailbox` module."""

from __future__ import annotations

import ast
import json
import mailbox
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from cockpit.mail.host.identity import message_identity
from cockpit.mail.host_bundle import MODULES, bundle_source, local_command
from tests.unit.mail.conftest import HostProgram, messages_of, system_python


def make_maildir(root: Path) -> mailbox.Maildir:
    box = mailbox.Maildir(str(root), create=True)
    for i, flags in enumerate(["S", "RS", "F", "", "T"]):
        message = mailbox.MaildirMessage(f"From: a@x\nSubject: m{i}\nMessage-ID: <m{i}@x>\n\nbody {i}\n".encode())
        message.set_flags(flags)
        message.set_subdir("new" if i == 3 else "cur")
        box.add(message)
    for folder in ("Sent", "Archive.2024", "&AMk-t&AOk-"):
        box.add_folder(folder).add(mailbox.MaildirMessage(f"Subject: in {folder}\n\nx\n".encode()))
    (root / "tmp" / "1700000000.half.host").write_bytes(b"Subject: half writ")
    (root / "cur" / ".hidden").write_bytes(b"not mail")
    return box


def make_mbox(path: Path, count: int = 4) -> mailbox.mbox:
    path.parent.mkdir(parents=True, exist_ok=True)
    box = mailbox.mbox(str(path))
    for i in range(count):
        message = mailbox.mboxMessage(f"Subject: s{i}\nMessage-ID: <s{i}@x>\n\nFrom the start\nline {i}\n".encode())
        message.set_flags("RO" if i % 2 else "O")
        box.add(message)
    box.flush()
    return box


def canonical(raw: bytes) -> bytes:
    """The test's own normal form (line based, independent of the host program's code)."""
    lines = raw.replace(b"\r\n", b"\n").split(b"\n")
    lines = [line[1:] if line.startswith(b">From ") else line for line in lines]
    head, _, body = b"\n".join(lines).partition(b"\n\n")
    kept: list[bytes] = []
    skipping = False
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                kept.append(line)
            continue
        skipping = line.split(b":")[0].strip().lower() in (b"status", b"x-status", b"x-uid", b"content-length")
        if not skipping:
            kept.append(line)
    return b"\n".join(kept) + b"\n\n" + body.rstrip(b"\n")


def test_the_bundle_is_python_36_syntax() -> None:
    tree = ast.parse(bundle_source(), feature_version=(3, 6))
    names: Counter[str] = Counter()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names[node.name] += 1
        if isinstance(node, ast.ImportFrom):
            assert node.module != "__future__", "from __future__ imports are not 3.6"
            assert node.module not in ("dataclasses", "contextvars"), f"{node.module} is newer than 3.6"
    assert [name for name, n in names.items() if n > 1] == [], "modules share one namespace in the bundle"
    assert not any(isinstance(node, ast.NamedExpr) for node in ast.walk(tree))
    assert "from cockpit" not in bundle_source()
    assert all(f"# ---- {name}\n" in bundle_source() for name in MODULES)


def _old_pythons() -> list[str]:
    found = []
    for name in ("python3.6", "python3.7", "python3.8"):
        path = shutil.which(name)
        if path and subprocess.run([path, "-c", "pass"], capture_output=True, timeout=30).returncode == 0:
            found.append(path)
    return found


OLD_PYTHONS = _old_pythons()
"""Old interpreters found here: the bundle also runs on each (where none is installed, the syntax test above
and the probes' below are what checks 3.6 compatibility)."""

if OLD_PYTHONS:

    @pytest.mark.parametrize("python", OLD_PYTHONS)
    def test_runs_on_an_old_python(python: str, tmp_path: Path) -> None:
        make_maildir(tmp_path / "md")
        run = HostProgram(python).inventory({"format": "maildir", "pattern": str(tmp_path / "md")})
        assert run.status == 0, run.stderr
        assert len(messages_of(run)) == 8


@pytest.mark.parametrize("program", ["STORE_ACTIVITY", "FIND_TOKEN", "SMTP_PROBE"])
def test_the_probe_programs_are_python_36_syntax(program: str) -> None:
    from cockpit.mail import host_probes

    tree = ast.parse(getattr(host_probes, program), feature_version=(3, 6))
    assert not any(isinstance(node, ast.NamedExpr) for node in ast.walk(tree))
    assert "from __future__" not in getattr(host_probes, program)


def test_maildir_inventory_lists_folders_flags_and_no_tmp(host: HostProgram, tmp_path: Path) -> None:
    make_maildir(tmp_path / "md")
    run = host.inventory({"format": "maildir", "pattern": str(tmp_path / "md")})
    assert run.status == 0, run.stderr
    folders = [v["folder"] for v in run.values if isinstance(v, dict) and "folder" in v]
    assert folders == ["", "&AMk-t&AOk-", "Archive.2024", "Sent"]
    records = messages_of(run)
    assert len(records) == 8
    assert sorted(r[4] for r in records) == ["", "", "", "", "F", "RS", "S", "T"]
    assert sum(1 for r in records if r[5] == "new") == 4
    assert {"end_mailbox": 0, "messages": 8, "bytes": sum(r[1] for r in records)} in run.values


def test_mbox_inventory_agrees_with_the_mailbox_module(host: HostProgram, tmp_path: Path) -> None:
    box = make_mbox(tmp_path / "alice")
    run = host.inventory({"format": "mbox", "pattern": str(tmp_path / "{user}")})
    assert run.status == 0, run.stderr
    records = messages_of(run)
    theirs = [box.get_bytes(key) for key in box.iterkeys()]
    assert [r[2] for r in records] == [message_identity(raw)[1] for raw in theirs]
    assert [r[4] for r in records] == ["", "S", "", "S"]
    assert [r[5] for r in records] == ["cur"] * 4
    assert run.values[0] == {
        "mailboxes": [{"path": str(tmp_path / "alice"), "user": "alice", "domain": "", "exists": True}]
    }


def test_patterns_expand_users_and_domains(host: HostProgram, tmp_path: Path) -> None:
    for domain, user in (("a.test", "ann"), ("a.test", "bo"), ("b.test", "cy")):
        make_mbox(tmp_path / "vmail" / domain / user, 1)
    (tmp_path / "vmail" / "a.test" / "ann.lock").write_text("")
    run = host.run(
        "inventory", {"format": "mbox", "pattern": str(tmp_path / "vmail/{domain}/{user}"), "list_only": True}
    )
    found = [(v["domain"], v["user"]) for v in run.values[0]["mailboxes"]]
    assert found == [("a.test", "ann"), ("a.test", "bo"), ("b.test", "cy")]
    run = host.run(
        "inventory",
        {
            "format": "mbox",
            "pattern": str(tmp_path / "vmail/{domain}/{user}"),
            "users": ["bo", "zed"],
            "list_only": True,
        },
    )
    assert [(v["user"], v["exists"]) for v in run.values[0]["mailboxes"]] == [("bo", True)]
    run = host.run(
        "inventory",
        {"format": "mbox", "pattern": str(tmp_path / "vmail/a.test/{user}"), "users": ["bo", "zed"], "list_only": True},
    )
    assert [(v["user"], v["exists"]) for v in run.values[0]["mailboxes"]] == [("bo", True), ("zed", False)]


def test_a_path_that_matches_nothing_is_one_line(host: HostProgram, tmp_path: Path) -> None:
    run = host.inventory({"format": "maildir", "pattern": str(tmp_path / "nothing/{user}/Maildir")})
    assert run.status == 2
    assert run.error == f"cockpit-mail: no-match: the store path {tmp_path}/nothing/{{user}}/Maildir matches nothing"


def test_a_file_that_is_not_an_mbox_is_one_line(host: HostProgram, tmp_path: Path) -> None:
    (tmp_path / "alice").write_bytes(b"Subject: not an mbox\n\nhello\n")
    run = host.inventory({"format": "mbox", "pattern": str(tmp_path / "{user}")})
    assert run.status == 2
    assert run.error.startswith(f"cockpit-mail: not-mbox: {tmp_path}/alice is not an mbox file")


def test_a_known_maildir_is_told_as_differences(host: HostProgram, tmp_path: Path) -> None:
    root = tmp_path / "md"
    make_maildir(root)
    params = {"format": "maildir", "paths": [{"path": str(root)}]}
    inbox = [r for f, r in folder_records(host.inventory(params)) if f == ""]
    known = {r[0]: r[1] for r in inbox}
    renamed, removed, resized = inbox[0][0], inbox[1][0], inbox[2][0]
    unique = renamed.partition("/")[2].partition(":")[0]
    (root / renamed).rename(root / "cur" / f"{unique}:2,FRS")
    (root / removed).unlink()
    known[resized] += 1
    again = host.inventory(params, [{"path": str(root), "folder": "", "known": known}])
    assert again.status == 0, again.stderr
    told = sorted((r for f, r in folder_records(again) if f == ""), key=str)
    expected = [["=", renamed, f"cur/{unique}:2,FRS", inbox[0][1], "FRS", "cur"], [resized, *inbox[2][1:]]]
    assert told == sorted(expected, key=str)
    assert {"gone": [removed]} in again.values
    assert len([r for f, r in folder_records(again) if f]) == 3  # folders not known: every message
    assert next(v for v in again.values if "end_mailbox" in v)["messages"] == 7


def test_an_mbox_is_parsed_only_past_the_known_prefix(host: HostProgram, tmp_path: Path) -> None:
    path = tmp_path / "alice"
    box = make_mbox(path, 3)
    params = {"format": "mbox", "paths": [{"path": str(path)}]}
    first = host.inventory(params)
    state = next(v["mbox_state"] for v in first.values if "mbox_state" in v)
    box.lock()
    box.add(mailbox.mboxMessage(b"Subject: new\n\nnew mail\n"))
    box.flush()
    box.unlock()
    again = host.inventory(params, [{"path": str(path), "mbox": state}])
    assert {"reuse": True} in again.values
    assert [r[3] for r in messages_of(again)] == [""]
    assert int(messages_of(again)[0][0]) == state["end"]
    data = path.read_bytes().replace(b"Status: O\n", b"Status: R\n", 1)
    path.write_bytes(data)
    third = host.inventory(params, [{"path": str(path), "mbox": state}])
    assert {"reuse": True} not in third.values
    assert len(messages_of(third)) == 4


def send_and_receive(
    host: HostProgram, source: dict[str, Any], dest: dict[str, Any], records: list[list[Any]], tail: bytes = b""
) -> tuple[Any, Any]:
    requests = b"".join(
        json.dumps([seq, 0, folder, r[0], r[1], r[2]]).encode() + b"\n" for seq, (folder, r) in enumerate(records)
    )
    sent = host.run("send", {"format": source["format"], "paths": [source["path"]]}, requests, parse=False)
    assert sent.status == 0, sent.stderr
    received = host.run(
        "receive",
        {
            "format": dest["format"],
            "source_format": source["format"],
            "targets": [{"path": dest["path"]}],
            "token": "t1",
        },
        sent.raw[: len(sent.raw) - len(tail)] if tail else sent.raw,
    )
    return sent, received


def acknowledged(run: Any) -> list[list[Any]]:
    """[seq, name, size] of every message the receiver acknowledged."""
    return [ack for v in run.values if "oks" in v for ack in v["oks"]]


def folder_records(run: Any) -> list[tuple[str, list[Any]]]:
    found, folder = [], ""
    for value in run.values:
        if isinstance(value, dict) and "folder" in value:
            folder = value["folder"]
        elif isinstance(value, list):
            found.append((folder, value))
    return found


@pytest.mark.parametrize(
    ("src_format", "dst_format"), [("mbox", "maildir"), ("maildir", "maildir"), ("mbox", "mbox"), ("maildir", "mbox")]
)
def test_copies_keep_content_and_flags(host: HostProgram, tmp_path: Path, src_format: str, dst_format: str) -> None:
    src = tmp_path / "src"
    if src_format == "mbox":
        make_mbox(src, 5)
        theirs: Any = mailbox.mbox(str(src))
    else:
        theirs = make_maildir(src)
    inventory = host.inventory({"format": src_format, "paths": [{"path": str(src)}]})
    records = folder_records(inventory)
    if dst_format == "mbox":
        records = [(f, r) for f, r in records if f == ""]
    dst = tmp_path / "dst"
    _, received = send_and_receive(
        host, {"format": src_format, "path": str(src)}, {"format": dst_format, "path": str(dst)}, records
    )
    assert received.status == 0, received.stderr
    assert len(acknowledged(received)) == len(records)
    copied: Any = mailbox.mbox(str(dst)) if dst_format == "mbox" else mailbox.Maildir(str(dst), factory=None)
    expected = Counter(canonical(theirs.get_bytes(k)) for k in theirs.iterkeys() if not str(k).startswith("."))
    assert Counter(canonical(copied.get_bytes(k)) for k in copied.iterkeys()) == expected

    def flags(message: Any) -> tuple[str, str]:
        converted = mailbox.MaildirMessage(message)
        return converted.get_subdir(), "".join(sorted(set(converted.get_flags()) & set("FRST")))

    assert Counter(flags(m) for m in copied) == Counter(
        flags(theirs[k]) for k in theirs.iterkeys() if not str(k).startswith(".")
    )
    if dst_format == "maildir":
        assert list((dst / "tmp").iterdir()) == []


def test_maildir_copies_keep_unique_names_unless_taken(host: HostProgram, tmp_path: Path) -> None:
    make_maildir(tmp_path / "src")
    records = [
        (f, r)
        for f, r in folder_records(host.inventory({"format": "maildir", "paths": [{"path": str(tmp_path / "src")}]}))
        if f == ""
    ]
    taken = records[0][1][0].partition("/")[2].partition(":")[0]
    (tmp_path / "dst" / "cur").mkdir(parents=True)
    (tmp_path / "dst" / "cur" / (taken + ":2,")).write_bytes(b"Subject: someone else\n\nx\n")
    _, received = send_and_receive(
        host,
        {"format": "maildir", "path": str(tmp_path / "src")},
        {"format": "maildir", "path": str(tmp_path / "dst")},
        records,
    )
    names = sorted(name.partition("/")[2] for _, name, _ in acknowledged(received))
    source_names = sorted(r[0].partition("/")[2] for _, r in records)
    assert len(set(names) & set(source_names)) == len(records) - 1
    assert sum(1 for n in names if n.startswith(taken)) == 0


def test_a_stream_that_ends_mid_message_commits_only_whole_ones(host: HostProgram, tmp_path: Path) -> None:
    make_mbox(tmp_path / "src", 5)
    records = folder_records(host.inventory({"format": "mbox", "paths": [{"path": str(tmp_path / "src")}]}))
    for dst_format in ("maildir", "mbox"):
        dst = tmp_path / f"dst-{dst_format}"
        _, received = send_and_receive(
            host,
            {"format": "mbox", "path": str(tmp_path / "src")},
            {"format": dst_format, "path": str(dst)},
            records,
            tail=b"x" * 40,
        )
        assert received.status == 4, received.stderr
        assert {"ended": "early"} in received.values
        copied: Any = mailbox.mbox(str(dst)) if dst_format == "mbox" else mailbox.Maildir(str(dst), factory=None)
        assert len(copied) == 4
        assert not (tmp_path / f"{dst}.cockpit-append").exists()
        if dst_format == "maildir":
            assert list((dst / "tmp").iterdir()) == []


def test_an_interrupted_mbox_append_is_undone_only_when_safe(host: HostProgram, tmp_path: Path) -> None:
    path = tmp_path / "alice"
    make_mbox(path, 2)
    good = path.read_bytes()
    path.write_bytes(good + b"From MAILER-DAEMON Mon Jan  1 00:00:00 2024\nSubject: half")
    Path(f"{path}.cockpit-append").write_text(f"cockpit-append dead1 {len(good)}\n")
    Path(f"{path}.lock").write_text("cockpit dead1\n")
    params: dict[str, Any] = {"format": "mbox", "paths": [{"path": str(path)}]}
    counted = host.inventory(params)
    assert len(messages_of(counted)) == 2
    assert {"interrupted": len(good)} in counted.values
    repaired = host.inventory({**params, "lock": "exclusive", "repair": True})
    assert repaired.status == 0, repaired.stderr
    assert path.read_bytes() == good
    assert not Path(f"{path}.cockpit-append").exists()
    assert not Path(f"{path}.lock").exists()
    path.write_bytes(good + b"From MAILER-DAEMON Mon Jan  1 00:00:00 2024\nSubject: half")
    Path(f"{path}.cockpit-append").write_text(f"cockpit-append dead2 {len(good)}\n")
    refused = host.inventory({**params, "repair": True})
    assert refused.status == 2
    assert "an interrupted copy left" in refused.error
    assert path.read_bytes().startswith(good) and len(path.read_bytes()) > len(good)


def test_the_launcher_refuses_an_old_python() -> None:
    command = local_command(system_python(), "inventory")
    pretend = command[2].replace("sys.version_info<(3,6)", "(3,5)<(3,6)")
    assert pretend != command[2]
    done = subprocess.run([command[0], "-c", pretend, "inventory"], input=b"{}\n", capture_output=True, timeout=60)
    assert done.returncode == 126
    assert b"the mail steps need 3.6 or newer" in done.stderr


def test_a_large_mbox_is_read_in_chunks_without_losing_a_message(host: HostProgram, tmp_path: Path) -> None:
    path = tmp_path / "big"
    box = mailbox.mbox(str(path))
    bodies = [os.urandom(700).hex().encode() + b"\n" for _ in range(3000)]
    bodies[1500] = b"x" * (3 * 1024 * 1024) + b"\n"
    for i, body in enumerate(bodies):
        box.add(mailbox.mboxMessage(b"Subject: n" + str(i).encode() + b"\n\n" + body))
    box.flush()
    records = messages_of(host.inventory({"format": "mbox", "paths": [{"path": str(path)}]}))
    assert [r[2] for r in records] == [message_identity(box.get_bytes(k))[1] for k in box.iterkeys()]
