"""On the source host: read the messages the cockpit asks for and write them to stdout as frames.

A frame is one JSON line (sequence number, size, flags, and what the destination needs to file the message)
followed by exactly that many bytes. A message that vanished or changed since the inventory is announced as
skipped instead: the next pass picks up whatever it became.
"""

import os
from typing import Any, BinaryIO, Dict, List, Optional, Tuple

from cockpit.mail.host.identity import message_identity
from cockpit.mail.host.maildir_format import SUBDIRS, folder_path, split_name
from cockpit.mail.host.mbox_format import mbox_flags
from cockpit.mail.host.protocol import Fail, LineWriter, fs_text, os_reason, read_json_line, read_whole


def _read_maildir_message(directory: str, key: str) -> Optional[Tuple[bytes, str, float]]:
    """(content, `subdir/name` now, mtime) of a Maildir message, found again by its unique name if its flags
    (and so its name) changed since the inventory; None when it is gone."""
    candidates = [key]
    for attempt in range(2):
        for name in candidates:
            try:
                content, st = read_whole(directory + "/" + name)
                return content, name, st.st_mtime
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise Fail("unreadable", "cannot read " + directory + "/" + name + ": " + os_reason(exc)) from None
        if attempt == 0:
            unique = split_name(key.partition("/")[2])[0]
            candidates = []
            for subdir in SUBDIRS:
                try:
                    names = os.listdir(directory + "/" + subdir)
                except OSError:
                    continue
                candidates.extend(subdir + "/" + n for n in names if split_name(n)[0] == unique)
    return None


class _MboxFiles:
    """Open source mboxes, one handle each, read at the offsets the inventory gave."""

    def __init__(self) -> None:
        self.handles: Dict[str, BinaryIO] = {}

    def read(self, path: str, offset: int, size: int) -> Optional[Tuple[bytes, bytes]]:
        handle = self.handles.get(path)
        try:
            if handle is None:
                handle = self.handles[path] = open(path, "rb")  # noqa: SIM115 - kept open, closed in close()
            handle.seek(offset)
            from_line = handle.readline()
            content = handle.read(size)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise Fail("unreadable", "cannot read " + path + ": " + os_reason(exc)) from None
        if not from_line.startswith(b"From ") or len(content) != size:
            return None
        return from_line.rstrip(b"\r\n"), content

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()


def run_send(params: Dict[str, Any], stdin: BinaryIO, out: LineWriter) -> None:
    """Parameters: format, paths (source mailboxes by index). Then one request per line:
    [seq, mailbox index, folder, key, size, digest], or ["flags", mailbox index, folder, key, flags], which is
    passed on for the destination. Each message goes out as a frame whose header is
    [seq, mailbox index, folder, size, digest, unique name, flags, subdir, mtime, From_ line]."""
    fmt = params["format"]
    paths: List[str] = [os.path.expanduser(p) for p in params["paths"]]
    folders: Dict[Tuple[int, str], str] = {}
    mboxes = _MboxFiles()
    sent = 0
    try:
        while True:
            request = read_json_line(stdin, "request")
            if request is None:
                break
            if request[0] == "flags":
                out.line({"flags": request[1:]})
                continue
            seq, box, folder, key, size, digest = request
            content: Optional[bytes] = None
            if fmt == "maildir":
                directory = folders.get((box, folder))
                if directory is None:
                    directory = folders[box, folder] = folder_path(paths[box], folder)
                found = _read_maildir_message(directory, key)
                if found is not None:
                    content, name, mtime = found
                    subdir, _, filename = name.partition("/")
                    unique, flags = split_name(filename)
                    header = [seq, box, folder, len(content), digest, unique, flags, subdir, mtime, ""]
                    if len(content) != size and message_identity(content)[1] != digest:
                        content = None
            else:
                read = mboxes.read(paths[box], int(key), size)
                if read is not None:
                    from_line, content = read
                    if message_identity(content)[1] != digest:
                        content = None
                    else:
                        flags, subdir = mbox_flags(content)
                        header = [seq, box, folder, len(content), digest, "", flags, subdir, 0, fs_text(from_line)]
            if content is None:
                out.line({"q": seq, "skip": "gone or changed since the inventory"})
                continue
            out.line(header)
            out.raw(content)
            sent += 1
        out.line({"end": True, "sent": sent})
    finally:
        mboxes.close()
