"""Small programs a host runs for the canary and drain steps (stdlib only, Python 3.6+), each printing one JSON
line: how a store changes (arrivals while it drains), where a canary's token landed, and the SMTP dialogue
seen from that host (for operators whose own network blocks outbound port 25)."""

from __future__ import annotations

import base64
import json
import shlex
from dataclasses import dataclass
from typing import Any

import asyncssh

from cockpit.mail.errors import MailError, PythonMissingError
from cockpit.mail.host_call import PYTHON_MISSING
from cockpit.ssh import SshError
from cockpit.ssh.command import run_captured

STORE_ACTIVITY = r"""
import glob, json, os, re, sys
fmt, pattern = sys.argv[1], sys.argv[2]
paths = sorted(glob.glob(os.path.expanduser(re.sub(r"\{(user|domain)\}", "*", pattern))))
count = size = 0
newest = 0.0
for root in paths:
    if fmt == "mbox":
        if os.path.isfile(root) and not root.endswith(".lock"):
            st = os.stat(root); size += st.st_size; newest = max(newest, st.st_mtime)
        continue
    for top, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != "tmp"]
        if os.path.basename(top) not in ("new", "cur"):
            continue
        for name in files:
            try:
                st = os.stat(os.path.join(top, name))
            except OSError:
                continue
            count += 1; size += st.st_size; newest = max(newest, st.st_mtime)
print(json.dumps({"mailboxes": len(paths), "messages": count if fmt != "mbox" else None, "bytes": size,
                  "newest": newest}))
"""

FIND_TOKEN = r"""
import json, os, sys
fmt, root, token, since = sys.argv[1], os.path.expanduser(sys.argv[2]), sys.argv[3].encode(), float(sys.argv[4])
def holds(path, whole):
    try:
        with open(path, "rb") as handle:
            if not whole:
                return token in handle.read(65536)
            tail = b""
            while True:
                chunk = handle.read(1 << 20)
                if not chunk:
                    return False
                if token in tail + chunk:
                    return True
                tail = chunk[-len(token):]
    except OSError:
        return False
found = None
if fmt == "mbox":
    found = root if os.path.isfile(root) and holds(root, True) else None
else:
    for top, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != "tmp"]
        if found or os.path.basename(top) not in ("new", "cur"):
            continue
        for name in files:
            path = os.path.join(top, name)
            try:
                recent = os.stat(path).st_mtime >= since
            except OSError:
                continue
            if recent and holds(path, False):
                found = path
                break
print(json.dumps({"found": found, "exists": os.path.exists(root)}))
"""

SMTP_PROBE = r"""
import base64, json, smtplib, socket, ssl, sys
mode, address, port, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
if mode == "refusal":
    try:
        sock = socket.create_connection((address, port), timeout)
    except socket.timeout:
        print(json.dumps({"outcome": "filtered", "detail": ""}))
    except ConnectionRefusedError:
        print(json.dumps({"outcome": "refused", "detail": ""}))
    except OSError as exc:
        print(json.dumps({"outcome": "unreachable", "detail": exc.strerror or str(exc)}))
    else:
        sock.settimeout(5)
        try:
            banner = sock.recv(512).decode("utf-8", "replace").strip().splitlines()
        except OSError:
            banner = []
        sock.close()
        print(json.dumps({"outcome": "accepted", "detail": banner[0] if banner else ""}))
    sys.exit(0)
helo, sender, rcpt, message = sys.argv[5], sys.argv[6], sys.argv[7], base64.b64decode(sys.argv[8])
said = []
def note(reply):
    code, text = reply
    said.append("%s %s" % (code, text.decode("utf-8", "replace").replace("\n", " ") if isinstance(text, bytes)
                           else text))
    return code
try:
    smtp = smtplib.SMTP(timeout=timeout)
    note(smtp.connect(address, port))
    note(smtp.ehlo(helo))
    if smtp.has_extn("starttls"):
        note(smtp.starttls(context=ssl._create_unverified_context()))
        note(smtp.ehlo(helo))
    ok = note(smtp.mail(sender)) == 250 and note(smtp.rcpt(rcpt)) in (250, 251) and note(smtp.data(message)) == 250
    try:
        smtp.quit()
    except Exception:
        pass
    print(json.dumps({"delivered": ok, "said": said}))
except (OSError, smtplib.SMTPException) as exc:
    said.append("%s: %s" % (type(exc).__name__, exc))
    print(json.dumps({"delivered": False, "said": said}))
"""


@dataclass(frozen=True)
class StoreActivity:
    """A store's size at one moment: changes between two readings mean mail arrived (or was read)."""

    mailboxes: int
    messages: int | None
    """Maildir files in new/ and cur/ (None for mbox spools: they are measured in bytes)."""
    bytes: int
    newest: float
    """The newest file's modification time."""


async def _run(conn: asyncssh.SSHClientConnection, host: str, program: str, args: list[str], timeout: float) -> Any:
    command = "exec python3 -c " + shlex.join([program, *args])
    guarded = f"command -v python3 >/dev/null 2>&1 || {{ echo 'no python3' >&2; exit 127; }}; {command}"
    try:
        captured = await run_captured(conn, f"exec /bin/sh -c {shlex.quote(guarded)}", host=host, timeout=timeout)
    except SshError:
        raise
    if captured.result.exit_status == 127:
        raise PythonMissingError(host, PYTHON_MISSING)
    if not captured.result.ok or not captured.stdout:
        raise MailError(host, f"the probe failed ({captured.result.describe()}): {captured.reason()}")
    try:
        return json.loads(captured.stdout[-1])
    except ValueError:
        raise MailError(host, f"the probe printed no result: {captured.reason()}") from None


async def store_activity(
    conn: asyncssh.SSHClientConnection, host: str, fmt: str, pattern: str, timeout: float = 60.0
) -> StoreActivity:
    value = await _run(conn, host, STORE_ACTIVITY, [fmt, pattern], timeout)
    return StoreActivity(int(value["mailboxes"]), value["messages"], int(value["bytes"]), float(value["newest"]))


async def find_token(
    conn: asyncssh.SSHClientConnection, host: str, fmt: str, mailbox: str, token: str, since: float
) -> tuple[str | None, bool]:
    """(the file that holds `token`, whether the mailbox exists at all)."""
    value = await _run(conn, host, FIND_TOKEN, [fmt, mailbox, token, f"{since:.3f}"], 60.0)
    return value["found"], bool(value["exists"])


async def remote_refusal(
    conn: asyncssh.SSHClientConnection, host: str, address: str, port: int, timeout: float
) -> tuple[str, str]:
    """(refused | accepted | filtered | unreachable, detail) as `host` sees `address:port`."""
    value = await _run(conn, host, SMTP_PROBE, ["refusal", address, str(port), f"{timeout:g}"], timeout + 30)
    return str(value["outcome"]), str(value["detail"])


async def remote_delivery(
    conn: asyncssh.SSHClientConnection,
    host: str,
    address: str,
    port: int,
    *,
    helo: str,
    sender: str,
    recipient: str,
    message: bytes,
    timeout: float,
) -> tuple[bool, list[str]]:
    """(delivered, the SMTP replies) of one message sent from `host` to `address:port`."""
    args = ["send", address, str(port), f"{timeout:g}", helo, sender, recipient, base64.b64encode(message).decode()]
    value = await _run(conn, host, SMTP_PROBE, args, timeout * 6 + 30)
    return bool(value["delivered"]), [str(line) for line in value["said"]]
