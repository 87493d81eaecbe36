"""OpenSSH's sshd on a loopback port, with generated keys: the real server for integration tests and benches.

Needs the `sshd` and `ssh-keygen` programs; runs commands as the current user (usually root in a test box).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path

from cockpit.lab.loopback_daemon import LoopbackDaemon

SSHD = "/usr/sbin/sshd"
START_TIMEOUT = 10.0


def sshd_path() -> str | None:
    """The sshd program, if installed (it needs an absolute path to run)."""
    found = shutil.which("sshd") or (SSHD if Path(SSHD).exists() else None)
    return str(Path(found).resolve()) if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _keygen(path: Path, comment: str) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        check=True,
        capture_output=True,
        timeout=30,
    )


class OpenSshServer(LoopbackDaemon):
    """A private sshd: its config, host key, authorized client key and pinned known_hosts under `root`."""

    program = "sshd"
    stop_timeout = 5.0

    def __init__(self, root: Path, sshd: str | None = None) -> None:
        super().__init__(root, root / "sshd.log")
        self.sshd = sshd or sshd_path() or SSHD
        self.port = 0
        self.host_key = root / "host_ed25519"
        self.client_key = root / "client_key"
        self.known_hosts = root / "known_hosts"
        self.config = root / "sshd_config"

    def start(self) -> None:
        """Generates keys, validates the config with `sshd -t`, starts sshd and waits until it accepts."""
        self.root.mkdir(parents=True, exist_ok=True)
        for key, comment in ((self.host_key, "cockpit-test-host"), (self.client_key, "cockpit-test-client")):
            if not key.exists():
                _keygen(key, comment)
        (self.root / "authorized_keys").write_bytes(self.client_key.with_suffix(".pub").read_bytes())
        self.port = _free_port()
        self.config.write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {self.host_key}",
                    f"PidFile {self.root / 'sshd.pid'}",
                    f"AuthorizedKeysFile {self.root / 'authorized_keys'}",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "UsePAM no",
                    "StrictModes no",
                    "PermitRootLogin prohibit-password",
                    "MaxSessions 64",
                    "MaxStartups 64",
                    "LogLevel ERROR",
                    "",
                ]
            )
        )
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)
        check = subprocess.run([self.sshd, "-t", "-f", str(self.config)], capture_output=True, timeout=30)
        if check.returncode != 0:
            raise RuntimeError(f"sshd -t rejected the config: {check.stderr.decode(errors='replace').strip()}")
        self._launch([self.sshd, "-D", "-e", "-f", str(self.config)], log_stdout=False)
        self._wait_until(self._listening, START_TIMEOUT, 0.02, "sshd did not start listening")
        public = self.host_key.with_suffix(".pub").read_text().split()
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {public[0]} {public[1]}\n")

    def _listening(self) -> bool:
        """sshd accepts TCP connections on its port."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def plan_host(self, user: str = "root") -> dict[str, object]:
        """This server as a plan's `hosts:` entry."""
        return {
            "address": "127.0.0.1",
            "port": self.port,
            "user": user,
            "known_hosts": str(self.known_hosts),
            "identity": [str(self.client_key)],
        }

    def ssh_command(self, *remote: str) -> list[str]:
        """An OpenSSH `ssh` command line for this server (batch mode, pinned key), for comparisons."""
        return [
            "ssh",
            "-F",
            "/dev/null",
            "-p",
            str(self.port),
            "-i",
            str(self.client_key),
            "-o",
            f"UserKnownHostsFile={self.known_hosts}",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "root@127.0.0.1",
            *remote,
        ]

    def session_children(self) -> list[int]:
        """The per-connection sshd processes (what `pgrep -P <sshd pid>` lists)."""
        return self._children().get(self.pid, [])

    def session_processes(self) -> list[int]:
        """Every process serving a client connection (children of the listener and their descendants)."""
        children = self._children()
        found: list[int] = []
        todo = list(children.get(self.pid, []))
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(children.get(pid, []))
        return found

    @staticmethod
    def _children() -> dict[int, list[int]]:
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rpartition(")")[2].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
        return children

    def signal_sessions(self, sig: signal.Signals, *, tree: bool = False) -> int:
        """Sends `sig` to each connection's sshd (SIGKILL = reset, SIGSTOP = black hole), or with `tree` to
        everything under them too; returns how many processes."""
        pids = self.session_processes() if tree else self.session_children()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        return len(pids)

    def stop(self) -> None:
        """Stops sshd and whatever its sessions left running."""
        if self._process is not None:
            self.signal_sessions(signal.SIGCONT, tree=True)
            self.signal_sessions(signal.SIGKILL, tree=True)
        super().stop()
