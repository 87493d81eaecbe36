"""On the destination host: file the frames the cockpit forwards into Maildirs or mboxes, and acknowledge each
message once it is durable and in place.

Formats are converted here, as `mailbox` converts them: mbox Status/X-Status become Maildir flags and the
headers go; Maildir flags become Status/X-Status; every line starting `From ` is quoted in an mbox and one
level of quoting is removed on the way to a Maildir. A converted message must keep its identity.
"""

import contextlib
import os
import time
from typing import Any, BinaryIO, Dict, List, Tuple

from cockpit.mail.host.identity import message_identity, quote_from, unquote_from
from cockpit.mail.host.locking import lock_directory
from cockpit.mail.host.maildir_delivery import MaildirWriter
from cockpit.mail.host.maildir_format import (
    folder_path,
    info_suffix,
    make_directories,
    owner_for,
    split_name,
    write_failure,
)
from cockpit.mail.host.mbox_append import MboxAppender
from cockpit.mail.host.mbox_format import date_of_from_line, make_from_line, rewrite_header, status_headers
from cockpit.mail.host.protocol import EXIT_STREAM_ENDED, Fail, LineWriter, fs_bytes, os_reason, read_json_line

MBOX_SYNC_BYTES = 32 << 20
MBOX_SYNC_SECONDS = 1.0


class _Targets:
    """The destination mailboxes by index, opened (and locked) on first use."""

    def __init__(self, fmt: str, targets: List[Dict[str, Any]], token: str) -> None:
        self.fmt = fmt
        self.targets = targets
        self.token = token
        self.writers: Dict[int, MaildirWriter] = {}
        self.appenders: Dict[int, MboxAppender] = {}
        self.locks: List[int] = []

    def path(self, box: int) -> str:
        path: str = self.targets[box]["path"]
        return os.path.expanduser(path)

    def writer(self, box: int) -> MaildirWriter:
        writer = self.writers.get(box)
        if writer is None:
            root = self.path(box)
            owner = owner_for(root, self.targets[box].get("user"))
            try:
                make_directories(root, owner)
            except OSError as exc:
                raise Fail("write", "cannot create " + root + ": " + os_reason(exc)) from None
            self.locks.append(lock_directory(root, exclusive=True))
            writer = self.writers[box] = MaildirWriter(root, owner, self.token)
        return writer

    def appender(self, box: int) -> MboxAppender:
        appender = self.appenders.get(box)
        if appender is None:
            path = self.path(box)
            parent = os.path.dirname(path) or "."
            if not os.path.isdir(parent):
                raise Fail("write", "cannot write " + path + ": no such directory " + parent)
            uid = owner_for(path, self.targets[box].get("user"))[0]
            appender = MboxAppender(path, self.token, (uid, os.stat(parent).st_gid))
            try:
                appender.open()
            except OSError as exc:
                appender.abandon()
                raise Fail("write", "cannot write " + path + ": " + os_reason(exc)) from None
            self.appenders[box] = appender
        return appender

    def close(self) -> None:
        for appender in self.appenders.values():
            appender.abandon()
        for fd in self.locks:
            if fd >= 0:
                os.close(fd)


def _convert(
    source_format: str, fmt: str, flags: str, subdir: str, mtime: float, from_text: str, content: bytes
) -> Tuple[bytes, bytes]:
    """The message as the destination format stores it, and its From_ line (for an mbox)."""
    if fmt == "maildir":
        if source_format == "maildir":
            return content, b""
        return unquote_from(rewrite_header(content, (b"status", b"x-status"), b"")), b""
    if source_format == "mbox":
        return quote_from(content), fs_bytes(from_text)
    eol = b"\r\n" if content.find(b"\r\n") == content.find(b"\n") - 1 >= 0 else b"\n"
    converted = rewrite_header(content, (b"status", b"x-status"), status_headers(flags, subdir, eol))
    return quote_from(converted), make_from_line(content, mtime or time.time())


def _apply_flag_updates(targets: _Targets, updates: List[List[Any]]) -> int:
    """Renames Maildir files whose flags changed on the source since the last pass; returns how many."""
    done = 0
    for box, folder, key, flags in updates:
        directory = folder_path(targets.path(box), folder)
        targets.writer(box)  # takes the Maildir's lock
        unique = split_name(key.partition("/")[2])[0]
        target = os.path.join(directory, "cur", unique + info_suffix(flags))
        source = os.path.join(directory, key)
        if source != target:
            try:
                os.rename(source, target)
                done += 1
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise Fail("write", "cannot rename " + source + ": " + os_reason(exc)) from None
    return done


def run_receive(params: Dict[str, Any], stdin: BinaryIO, out: LineWriter) -> int:
    """Parameters: format, source_format, targets ({path, user} by mailbox index), token. Then frames until the
    end marker (see `run_send`). Returns the exit status."""
    fmt, source_format = params["format"], params["source_format"]
    targets = _Targets(fmt, params["targets"], params.get("token") or "0")
    pending: List[Tuple[int, int]] = []
    last_sync = time.time()
    unsynced = 0
    ended = False
    try:
        while True:
            header = read_json_line(stdin, "frame")
            if not isinstance(header, list):
                if header is not None and "skip" in header:
                    out.line({"skip": header["q"], "why": header["skip"]})
                    continue
                if header is not None and "flags" in header:
                    out.line({"flags": _apply_flag_updates(targets, [header["flags"]])})
                    continue
                ended = header is not None and bool(header.get("end"))
                break
            seq, box, folder, size, digest, unique, flags, subdir, mtime, from_text = header
            content = stdin.read(size)
            if len(content) < size:
                break
            if fmt == "maildir" and not mtime:
                mtime = date_of_from_line(fs_bytes(from_text)) or time.time()
            stored, from_line = _convert(source_format, fmt, flags, subdir, mtime, from_text, content)
            if stored is not content and message_identity(stored)[1] != digest:
                raise Fail("protocol", "a converted message changed its identity (message " + str(seq) + ")")
            if fmt == "maildir":
                writer = targets.writer(box)
                writer.stage(seq, folder, stored, unique if source_format == "maildir" else "", flags, subdir, mtime)
                if writer.due():
                    _acknowledge(out, writer.commit())
            else:
                appender = targets.appender(box)
                try:
                    appender.append(from_line, stored)
                except OSError as exc:
                    raise write_failure(appender.path, exc, "the partial message was cut off again") from None
                pending.append((seq, len(stored)))
                unsynced += len(stored)
                if unsynced >= MBOX_SYNC_BYTES or time.time() - last_sync >= MBOX_SYNC_SECONDS:
                    _sync_mboxes(targets, pending, out)
                    unsynced, last_sync = 0, time.time()
        for writer in targets.writers.values():
            _acknowledge(out, writer.commit())
        _sync_mboxes(targets, pending, out)
        for appender in targets.appenders.values():
            appender.close()
        out.line({"done": True} if ended else {"ended": "early"})
        out.flush()
    except (Fail, BrokenPipeError):
        # Nothing half-written stays: staged Maildir files go, mbox appends end after their last whole message.
        for writer in targets.writers.values():
            writer.discard()
        for appender in targets.appenders.values():
            with contextlib.suppress(OSError):
                appender.close()
        raise
    finally:
        targets.close()
    return 0 if ended else EXIT_STREAM_ENDED


def _acknowledge(out: LineWriter, done: List[Tuple[int, str, int]]) -> None:
    """One line for a whole batch: [seq, name written ("" in an mbox), bytes] per message."""
    if done:
        out.line({"oks": done})
        out.flush()


def _sync_mboxes(targets: _Targets, pending: List[Tuple[int, int]], out: LineWriter) -> None:
    for appender in targets.appenders.values():
        try:
            appender.sync()
        except OSError as exc:
            raise write_failure(appender.path, exc) from None
    _acknowledge(out, [(seq, "", written) for seq, written in pending])
    del pending[:]
