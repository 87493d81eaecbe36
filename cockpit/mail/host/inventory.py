"""On the host: find the mailboxes a store path names, and list every message with its identity, size and
flags as JSON lines, reusing what the cockpit already knows from the previous pass.

Known Maildir files (same unique name, same size) are not read again; a known mbox is parsed only past the
offset where the last pass stopped, after its prefix was checked to be byte for byte what was fingerprinted.
"""

import glob
import hashlib
import os
import re
from typing import Any, BinaryIO, Dict, List, Optional, Tuple

from cockpit.mail.host.identity import message_identity
from cockpit.mail.host.locking import DotLock, lock_directory, lock_file
from cockpit.mail.host.maildir_format import folder_path, list_messages, maildir_folders, remove_leftovers, split_name
from cockpit.mail.host.mbox_append import MARKER_SUFFIX, read_marker, recover_append
from cockpit.mail.host.mbox_format import MboxScanner, mbox_flags, verified_prefix
from cockpit.mail.host.protocol import Fail, LineWriter, os_reason, read_json_line, read_whole

_PLACEHOLDER = re.compile(r"\{(user|domain)\}")


def _pattern_parts(pattern: str, user: Optional[str] = None) -> Tuple[str, str, "re.Pattern[str]"]:
    """The path with `user` filled in (placeholders left), its glob and its regular expression (with named
    groups). The user is a literal: nothing in its name (a brace, a star) is read as pattern."""
    pieces = _PLACEHOLDER.split(pattern)
    filled, globbed, regex, seen = "", "", "", set()
    for index, piece in enumerate(pieces):
        literal = piece if index % 2 == 0 else user if piece == "user" and user is not None else None
        if literal is not None:
            filled += literal
            globbed += glob.escape(literal)
            regex += re.escape(literal)
        else:
            filled += "{" + piece + "}"
            globbed += "*"
            regex += "(?P=" + piece + ")" if piece in seen else "(?P<" + piece + ">[^/]+)"
            seen.add(piece)
    return filled, globbed, re.compile(regex + r"\Z")


def _is_mailbox(path: str, fmt: str) -> bool:
    if fmt == "mbox":
        name = os.path.basename(path)
        return os.path.isfile(path) and not name.endswith(".lock") and not name.endswith(MARKER_SUFFIX)
    return os.path.isdir(os.path.join(path, "cur")) or os.path.isdir(os.path.join(path, "new"))


def _unreadable_parent(globbed: str) -> None:
    """glob hides a directory it cannot read; say so instead of "matches nothing"."""
    fixed = globbed.split("*", 1)[0]
    directory = fixed if fixed.endswith("/") else os.path.dirname(fixed)
    while directory and not os.path.isdir(directory):
        directory = os.path.dirname(directory.rstrip("/"))
    if directory:
        try:
            os.listdir(directory)
        except PermissionError as exc:
            raise Fail("unreadable", "cannot read " + directory + ": " + os_reason(exc)) from None


def expand_store(pattern: str, fmt: str, users: Optional[List[str]]) -> List[Dict[str, Any]]:
    """The mailboxes on this host that `pattern` names: {path, user, domain, exists}."""
    pattern = os.path.expanduser(pattern)
    named: List[Optional[str]] = [None]
    if users is not None and "{user}" in pattern:
        named = list(users)
    found: List[Dict[str, Any]] = []
    for user in named:
        concrete, globbed, regex = _pattern_parts(pattern, user)
        fixed_user = user or ""
        if not regex.groupindex:  # nothing left to find: the one path
            found.append({"path": concrete, "user": fixed_user, "domain": "", "exists": _is_mailbox(concrete, fmt)})
            continue
        matches = sorted(glob.glob(globbed))
        if not matches:
            _unreadable_parent(globbed)
        for path in matches:
            match = regex.match(path)
            if match is None or not _is_mailbox(path, fmt):
                continue
            values = match.groupdict()
            found.append(
                {
                    "path": path,
                    "user": values.get("user", fixed_user),
                    "domain": values.get("domain", ""),
                    "exists": True,
                }
            )
    return found


def _read_file(path: str) -> Optional[bytes]:
    try:
        return read_whole(path)[0]
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise Fail("unreadable", "cannot read " + path + ": " + os_reason(exc)) from None


def inventory_maildir(
    out: LineWriter, root: str, known: Dict[str, Dict[str, int]], lock: str, repair: bool
) -> Tuple[int, int]:
    """Lists every folder of one Maildir and its messages; returns (messages, bytes).

    With `known` ({folder: {"cur/NAME": size}} from the last pass) only differences are printed: a full record
    for a new (or resized) file, ["=", old key, key, size, flags, subdir] for a known one renamed (its flags
    changed), and {"gone": [old key, ...]} for known ones no longer there; everything else is as it was.
    """
    holder = (
        lock_directory(root, exclusive=True)
        if lock == "exclusive"
        else (lock_directory(root, exclusive=False) if lock == "shared" else -1)
    )
    count = size_total = 0
    try:
        for folder in maildir_folders(root):
            directory = folder_path(root, folder)
            if repair:
                remove_leftovers(directory)
            out.line({"folder": folder})
            remaining = dict(known.get(folder, {}))
            by_unique: Optional[Dict[str, str]] = None
            prefix = directory + "/"
            for subdir, name, size, _ in list_messages(directory):
                key = subdir + "/" + name
                if remaining.pop(key, -1) == size:
                    count += 1
                    size_total += size
                    continue
                unique, flags = split_name(name)
                if by_unique is None:
                    by_unique = {split_name(k.partition("/")[2])[0]: k for k in remaining}
                before = by_unique.get(unique)
                if before is not None and remaining.get(before) == size:
                    del remaining[before]
                    out.line(["=", before, key, size, flags, subdir])
                else:
                    content = _read_file(prefix + key)
                    if content is None:
                        continue
                    size = len(content)
                    message_id, digest = message_identity(content)
                    out.message(key, size, digest, message_id, flags, subdir)
                count += 1
                size_total += size
            if remaining:
                out.line({"gone": list(remaining)})
    finally:
        if holder >= 0:
            os.close(holder)
    return count, size_total


def _repair_mbox(path: str) -> None:
    """Undoes an interrupted append of ours before the mbox is counted (sync only)."""
    earlier = read_marker(path)
    if earlier is None:
        return
    dotlock = DotLock(path, "repair")
    lock_was_ours = dotlock.holder_is(earlier[1])
    fd = os.open(path, os.O_RDWR)
    try:
        dotlock.acquire(earlier[1])
        lock_file(fd, path, exclusive=True)
        recover_append(fd, path, earlier[0], lock_was_ours)
        os.unlink(path + MARKER_SUFFIX)
    finally:
        os.close(fd)
        dotlock.release()


def inventory_mbox(out: LineWriter, path: str, known: Optional[Dict[str, Any]], repair: bool) -> Tuple[int, int]:
    """Lists the messages of one mbox (its one folder, the inbox); returns (messages, bytes)."""
    if repair:
        _repair_mbox(path)
    marker = read_marker(path)
    try:
        handle: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise Fail("unreadable", "cannot read " + path + ": " + os_reason(exc)) from None
    count = size_total = 0
    with handle:
        lock_file(handle.fileno(), path, exclusive=False)
        st = os.fstat(handle.fileno())
        out.line({"folder": ""})
        scanner = None
        if known is not None and marker is None:
            hasher = verified_prefix(handle, known, st)
            if hasher is not None:
                scanner = MboxScanner(handle, path, int(known["end"]), hasher)
                scanner.skip_blank_lines()
                if scanner.at_from_line():
                    out.line({"reuse": True})
                else:
                    scanner = None
        if scanner is None:
            scanner = MboxScanner(handle, path, 0, hashlib.sha256(), marker[0] if marker else None)
        try:
            for offset, _, content in scanner.messages():
                message_id, digest = message_identity(content)
                flags, subdir = mbox_flags(content)
                out.message(str(offset), len(content), digest, message_id, flags, subdir)
                count += 1
                size_total += len(content)
        except OSError as exc:
            raise Fail("unreadable", "cannot read " + path + ": " + os_reason(exc)) from None
        if marker is not None:
            out.line({"interrupted": marker[0]})
        else:
            state = {"dev": st.st_dev, "ino": st.st_ino, "end": scanner.position, "sha": scanner.hasher.hexdigest()}
            out.line({"mbox_state": state})
    return count, size_total


def run_inventory(params: Dict[str, Any], stdin: BinaryIO, out: LineWriter) -> None:
    """Parameters: format, and either pattern (+ users) or paths (a list of {path, user, domain});
    lock (none, shared, exclusive), repair, list_only. Then one line per known folder or mbox from the last
    pass. Prints the mailboxes first (one line), then each mailbox, its folders and their messages."""
    fmt = params["format"]
    known_maildir: Dict[str, Dict[str, Dict[str, int]]] = {}
    known_mbox: Dict[str, Dict[str, Any]] = {}
    while True:
        line = read_json_line(stdin, "known state")
        if line is None:
            break
        if "mbox" in line:
            known_mbox[line["path"]] = line["mbox"]
        else:
            known_maildir.setdefault(line["path"], {})[line["folder"]] = line["known"]
    if "pattern" in params:
        mailboxes = expand_store(params["pattern"], fmt, params.get("users"))
        if not any(box["exists"] for box in mailboxes):
            raise Fail("no-match", "the store path " + params["pattern"] + " matches nothing")
    else:
        mailboxes = [dict(box, exists=_is_mailbox(os.path.expanduser(box["path"]), fmt)) for box in params["paths"]]
    out.line({"mailboxes": mailboxes})
    out.flush()  # the cockpit starts on the destination as soon as it knows the mailboxes
    if params.get("list_only"):
        out.line({"done": True, "messages": 0})
        return
    total = 0
    for index, box in enumerate(mailboxes):
        path = os.path.expanduser(box["path"])
        out.line(
            {
                "mailbox": index,
                "path": box["path"],
                "user": box.get("user", ""),
                "domain": box.get("domain", ""),
                "exists": box["exists"],
            }
        )
        count = size = 0
        if box["exists"] and fmt == "maildir":
            count, size = inventory_maildir(
                out, path, known_maildir.get(box["path"], {}), params.get("lock", "none"), bool(params.get("repair"))
            )
        elif box["exists"]:
            count, size = inventory_mbox(out, path, known_mbox.get(box["path"]), bool(params.get("repair")))
        out.line({"end_mailbox": index, "messages": count, "bytes": size})
        total += count
    out.line({"done": True, "messages": total})
