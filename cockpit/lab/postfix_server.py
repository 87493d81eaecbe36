"""A private Postfix instance for integration tests: its own configuration, queue and log under one folder,
loopback only, short retry times, started with `postfix -c DIR start` (as root, like the system's own).

It is the real sending MTA of the tests that check what senders do during a move (it resolves the MX through
the system resolver: run it with `resolv_conf` to point its lookups at a test nameserver, in a mount
namespace of its own, so the machine's resolver stays untouched) and the real receiving MTA of the tests that
check a forwarding configuration.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

POSTFIX = "/usr/sbin/postfix"
START_TIMEOUT = 20.0


def postfix_missing() -> str | None:
    """Why a private Postfix cannot run here, or None."""
    if not Path(POSTFIX).exists():
        return "Postfix is not installed (make servers installs it)"
    if os.geteuid() != 0:
        return "a private Postfix instance needs root"
    return None


class PostfixInstance:
    """One Postfix: `settings` go into main.cf over the defaults below; `resolv_conf` (a file) is what its
    processes see as /etc/resolv.conf."""

    def __init__(self, settings: dict[str, str] | None = None, *, resolv_conf: Path | None = None) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="cockpit-postfix-"))
        """Everything of the instance, in a folder the postfix user can reach (a test's own folder is often
        private to root); removed by `stop`."""
        self.root.chmod(0o755)
        root = self.root
        self.config = root / "config"
        self.queue = root / "queue"
        self.data = root / "data"
        self.log = root / "maillog"
        self.resolv_conf = resolv_conf
        self.settings = {
            "compatibility_level": "3.6",
            "queue_directory": str(self.queue),
            "data_directory": str(self.data),
            "maillog_file": str(self.log),
            "maillog_file_prefixes": str(root),
            "inet_interfaces": "loopback-only",
            "inet_protocols": "ipv4",
            "myhostname": "postfix.lab.test",
            "mydestination": "",
            "mynetworks": "127.0.0.0/8",
            "alias_maps": "",
            "alias_database": "",
            "smtputf8_enable": "no",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
            "queue_run_delay": "1s",
            "smtp_connect_timeout": "2s",
            "bounce_queue_lifetime": "1h",
            "maximal_queue_lifetime": "1h",
            "smtp_tls_security_level": "none",
            **(settings or {}),
        }

    def command(self, *args: str) -> list[str]:
        """A Postfix command line for this instance (in its own mount namespace when it has a resolv.conf)."""
        if self.resolv_conf is None:
            return list(args)
        inner = f'mount --bind {self.resolv_conf} /etc/resolv.conf && exec "$@"'
        return ["unshare", "-m", "--propagation", "private", "sh", "-c", inner, "sh", *args]

    def run(self, *args: str, stdin: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        env = {**os.environ, "MAIL_CONFIG": str(self.config)}
        done = subprocess.run(self.command(*args), input=stdin, capture_output=True, env=env, timeout=60)
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)}: {done.stderr.decode(errors='replace').strip()}")
        return done

    def write_config(self) -> None:
        self.config.mkdir(parents=True, exist_ok=True)
        for name in ("master.cf", "dynamicmaps.cf"):
            if Path("/etc/postfix", name).exists():
                shutil.copy(Path("/etc/postfix", name), self.config / name)
        (self.config / "main.cf").write_text("".join(f"{key} = {value}\n" for key, value in self.settings.items()))
        self.run("postconf", "-c", str(self.config), "-F", "*/*/chroot = n")

    def start(self) -> None:
        """Write the configuration, create the queue, start the master; raises when it does not come up."""
        self.write_config()
        self.queue.mkdir(parents=True, exist_ok=True)
        self.data.mkdir(parents=True, exist_ok=True)
        shutil.chown(self.data, "postfix")
        self.run(POSTFIX, "-c", str(self.config), "check")
        self.run(POSTFIX, "-c", str(self.config), "start")
        deadline = time.monotonic() + START_TIMEOUT
        while not (self.queue / "pid" / "master.pid").exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"postfix did not start: {self.last_log()}")
            time.sleep(0.05)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.run(POSTFIX, "-c", str(self.config), "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def reload(self) -> None:
        self.run(POSTFIX, "-c", str(self.config), "reload")

    def send(self, message: bytes, *recipients: str, sender: str = "sender@lab.test") -> None:
        """Submit a message as a local program would (the sendmail command: pickup, cleanup, queue)."""
        self.run("/usr/sbin/sendmail", "-C", str(self.config), "-f", sender, "-i", "--", *recipients, stdin=message)

    def queue_listing(self) -> str:
        return self.run("/usr/sbin/postqueue", "-c", str(self.config), "-p").stdout.decode(errors="replace")

    def flush(self) -> None:
        self.run("/usr/sbin/postqueue", "-c", str(self.config), "-f", check=False)

    def last_log(self, lines: int = 5) -> str:
        if not self.log.exists():
            return "no log"
        return " | ".join(self.log.read_text(errors="replace").strip().splitlines()[-lines:])
