"""How commands are written for the remote shell: quoted paths, and a wrapper that makes cancel stick.

Closing a channel without a PTY leaves the command running under sshd, and sshd refuses "signal" requests
for root sessions (no privilege separation there). So the command runs under a small sh wrapper that also
watches the channel's stdin: when the channel closes (a cancel, a timeout, a lost connection) stdin ends,
and the watcher sends TERM to the whole process group, then KILL five seconds later. A "signal" request,
where sshd honours it, and a PTY hang-up reach the same trap. The command itself reads from /dev/null.
"""

from __future__ import annotations

import shlex

_WRAPPER = "; ".join(
    [
        "exec 3<&0",
        "trap 'trap - TERM HUP INT; kill -TERM -$$ 2>/dev/null; kill -TERM $c 2>/dev/null; exit 143' TERM HUP INT",
        "{ trap '' TERM HUP INT; while read -r _; do :; done; kill -TERM -$$ 2>/dev/null || kill -TERM $$; "
        "sleep 5; kill -KILL -$$ 2>/dev/null; } <&3 >/dev/null 2>&1 & w=$!",
        '/bin/sh -c "$1" </dev/null 3<&- & c=$!',
        "wait $c; s=$?",
        "kill -KILL $w 2>/dev/null",
        "exit $s",
    ]
)
"""A background job's stdin would be /dev/null, hence fd 3. `$$` is the wrapper (leader of the process group
sshd gives the session), `$c` the command, `$w` the watcher."""

CANCEL_SIGNAL = "TERM"


def quote(path: str) -> str:
    """A path as one shell word, whatever it contains."""
    return shlex.quote(path)


def wrapped(command: str) -> str:
    """The command line sent to the server: `command` run by /bin/sh under the kill-on-close wrapper.

    The caller must keep the channel's stdin open (send no EOF) while the command runs.
    """
    return f"exec /bin/sh -c {shlex.quote(_WRAPPER)} cockpit {shlex.quote(command)}"


def quote_path(path: str) -> str:
    """Like `quote`, but a leading `~/` still means the remote user's home (it would not, once quoted)."""
    if path == "~":
        return '"$HOME"'
    if path.startswith("~/"):
        return '"$HOME"/' + shlex.quote(path[2:]) if path[2:] else '"$HOME"/'
    return shlex.quote(path)
