"""Maildir and Maildir++ as they lie on disk: folders, file names with their `:2,` flags, the directories a
delivery needs (owned like the mailbox around them), and our leftovers under tmp/."""

import contextlib
import errno
import os
import pwd
from typing import Iterator, List, Optional, Tuple

from cockpit.mail.host.protocol import Fail, os_reason

SUBDIRS = ("new", "cur")
TMP_PREFIX = "cockpit-"
"""Names of our files under tmp/; leftovers of a copy that died are removed by the next one."""


def folder_path(root: str, folder: str) -> str:
    """The directory of a folder: the Maildir itself for the inbox (""), `.NAME` beside cur/ for others."""
    return os.path.join(root, "." + folder) if folder else root


def maildir_folders(root: str) -> List[str]:
    """The inbox ("") and every Maildir++ folder (`.Sent`, `.Archive.2024`) that has a cur/ or new/."""
    folders = [""]
    try:
        names = sorted(os.listdir(root))
    except OSError as exc:
        raise Fail("unreadable", "cannot read " + root + ": " + os_reason(exc)) from None
    for name in names:
        if name.startswith(".") and name not in (".", "..") and len(name) > 1:
            path = os.path.join(root, name)
            if os.path.isdir(os.path.join(path, "cur")) or os.path.isdir(os.path.join(path, "new")):
                folders.append(name[1:])
    return folders


def list_messages(directory: str) -> Iterator[Tuple[str, str, int, float]]:
    """(subdir, file name, size, mtime) of every message in cur/ and new/; tmp/ and dot files are not mail."""
    for subdir in SUBDIRS:
        path = os.path.join(directory, subdir)
        try:
            entries = list(os.scandir(path))
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise Fail("unreadable", "cannot read " + path + ": " + os_reason(exc)) from None
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if not entry.is_file(follow_symlinks=False):
                    continue
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # moved or deleted while we looked
            except OSError as exc:
                raise Fail("unreadable", "cannot read " + entry.path + ": " + os_reason(exc)) from None
            yield subdir, entry.name, st.st_size, st.st_mtime


def split_name(name: str) -> Tuple[str, str]:
    """The unique part of a Maildir file name and its flags (the letters after `:2,`)."""
    unique, _, info = name.partition(":")
    return unique, (info[2:] if info.startswith("2,") else "")


def info_suffix(flags: str) -> str:
    return ":2," + "".join(sorted(set(flags))) if flags else ""


def owner_for(path: str, user: Optional[str]) -> Tuple[int, int]:
    """Who should own what we create at `path`: the owner of the nearest existing directory above it, or the
    mailbox's user when that directory belongs to root (as /home and /var/mail do)."""
    probe = os.path.abspath(path)
    while True:
        try:
            st = os.stat(probe)
            break
        except OSError:
            parent = os.path.dirname(probe)
            if parent == probe:
                return os.geteuid(), os.getegid()
            probe = parent
    if st.st_uid == 0 and user:
        try:
            entry = pwd.getpwnam(user)
            return entry.pw_uid, entry.pw_gid
        except KeyError:
            pass
    return st.st_uid, st.st_gid


def make_directories(path: str, owner: Tuple[int, int]) -> None:
    """Creates `path` and its missing parents (mode 0700), owned by `owner` when we run as root."""
    missing: List[str] = []
    probe = os.path.abspath(path)
    while not os.path.isdir(probe):
        missing.append(probe)
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            continue
        if os.geteuid() == 0:
            os.chown(directory, owner[0], owner[1])


def ensure_folder(root: str, folder: str, owner: Tuple[int, int]) -> str:
    """The folder's directory with cur/, new/ and tmp/ (and `maildirfolder` for a Maildir++ folder)."""
    directory = folder_path(root, folder)
    for sub in ("cur", "new", "tmp"):
        make_directories(os.path.join(root, sub), owner)
        make_directories(os.path.join(directory, sub), owner)
    if folder and not os.path.exists(os.path.join(directory, "maildirfolder")):
        fd = os.open(os.path.join(directory, "maildirfolder"), os.O_WRONLY | os.O_CREAT, 0o600)
        if os.geteuid() == 0:
            os.fchown(fd, owner[0], owner[1])
        os.close(fd)
    return directory


def remove_leftovers(directory: str) -> int:
    """Removes our temporary files from tmp/ (a copy that died left them); returns how many."""
    removed = 0
    path = os.path.join(directory, "tmp")
    try:
        names = os.listdir(path)
    except OSError:
        return 0
    for name in names:
        if name.startswith(TMP_PREFIX):
            try:
                os.unlink(os.path.join(path, name))
                removed += 1
            except OSError:
                pass
    return removed


def unlink_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def write_failure(path: str, exc: OSError, undone: str = "the partial file was removed") -> Fail:
    """The one line for a failed write; a full disk (or quota) is told apart."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return Fail("disk-full", "disk full writing " + path + ": " + os_reason(exc) + "; " + undone)
    return Fail("write", "cannot write " + path + ": " + os_reason(exc))
