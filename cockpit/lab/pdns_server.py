"""PowerDNS Authoritative on loopback ports with a private sqlite database and API key: a real DNS provider
API (dns-lexicon's powerdns provider speaks to it) that also answers DNS, so a change made through the API
can be read back by DNS.

Needs `pdns_server`, `pdnsutil` and the gsqlite3 backend (Debian: pdns-server, pdns-backend-sqlite3).
Everything lives under `root`: config, database, control socket, log. Caches are off, so an answer
reflects the database at once.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import sqlite3
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterable
from pathlib import Path

from cockpit.lab.loopback_daemon import LoopbackDaemon

PDNS_SERVER = "/usr/sbin/pdns_server"
PDNSUTIL = "/usr/bin/pdnsutil"
SCHEMA = Path("/usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql")
START_TIMEOUT = 15.0


def pdns_missing() -> str | None:
    """What is missing to run a private PowerDNS (None when nothing is)."""
    if not (shutil.which("pdns_server") or Path(PDNS_SERVER).exists()):
        return "pdns_server (package pdns-server)"
    if not (shutil.which("pdnsutil") or Path(PDNSUTIL).exists()):
        return "pdnsutil (package pdns-server)"
    if not SCHEMA.exists():
        return f"the sqlite schema {SCHEMA} (package pdns-backend-sqlite3)"
    return None


def _program(name: str, fallback: str) -> str:
    return shutil.which(name) or fallback


def _free_port() -> int:
    """A port free for both TCP and UDP on 127.0.0.1."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = int(tcp.getsockname()[1])
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            try:
                udp.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port


class PowerDnsServer(LoopbackDaemon):
    """A private pdns_server: DNS on `dns_port`, the HTTP API on `api_port`, both on 127.0.0.1."""

    program = "pdns_server"

    def __init__(self, root: Path, *, server_id: str = "cockpit-pdns") -> None:
        super().__init__(root, root / "pdns.log")
        self.server_id = server_id
        """What the server answers to NSID questions."""
        self.api_key = secrets.token_urlsafe(24)
        self.dns_port = 0
        self.api_port = 0
        self.config = root / "pdns.conf"
        self.database = root / "pdns.sqlite3"

    @property
    def api_url(self) -> str:
        """What lexicon's `pdns_server` option takes."""
        return f"http://127.0.0.1:{self.api_port}"

    def __repr__(self) -> str:
        return f"PowerDnsServer(dns=127.0.0.1:{self.dns_port}, api={self.api_url}, api_key=<redacted>)"

    def prepare(self) -> None:
        """Config and an empty database from the backend's schema; zones can be created from here on."""
        self.root.mkdir(parents=True, exist_ok=True)
        if not self.dns_port:
            self.dns_port, self.api_port = _free_port(), _free_port()
        self.config.write_text(
            "\n".join(
                [
                    "launch=gsqlite3",
                    f"gsqlite3-database={self.database}",
                    "local-address=127.0.0.1",
                    f"local-port={self.dns_port}",
                    "api=yes",
                    f"api-key={self.api_key}",
                    "webserver=yes",
                    "webserver-address=127.0.0.1",
                    f"webserver-port={self.api_port}",
                    "webserver-allow-from=127.0.0.0/8",
                    f"socket-dir={self.root}",
                    "guardian=no",
                    "daemon=no",
                    "disable-syslog=yes",
                    "security-poll-suffix=",
                    f"server-id={self.server_id}",
                    "cache-ttl=0",
                    "query-cache-ttl=0",
                    "negquery-cache-ttl=0",
                    "zone-cache-refresh-interval=0",
                    "loglevel=4",
                    "",
                ]
            )
        )
        if not self.database.exists():
            with sqlite3.connect(self.database) as db:
                db.executescript(SCHEMA.read_text())

    def _pdnsutil(self, *args: str) -> None:
        done = subprocess.run(
            [_program("pdnsutil", PDNSUTIL), f"--config-dir={self.root}", *args],
            capture_output=True,
            timeout=30,
        )
        if done.returncode != 0:
            raise RuntimeError(f"pdnsutil {args[0]} failed: {done.stderr.decode(errors='replace').strip()}")

    def create_zone(self, zone: str, *, serial: int = 1, records: Iterable[tuple[str, str, int, str]] = ()) -> None:
        """A native zone with NS ns1.ZONE, SOA serial `serial` (raised by every API change), and records given
        as (name relative to the zone or "@", type, TTL, content)."""
        if not self.config.exists():
            self.prepare()
        self._pdnsutil("create-zone", zone, f"ns1.{zone}")
        self._pdnsutil("set-meta", zone, "SOA-EDIT-API", "DEFAULT")
        soa = f"ns1.{zone}. hostmaster.{zone}. {serial} 10800 3600 604800 300"
        self._pdnsutil("replace-rrset", zone, "@", "SOA", "3600", soa)
        self._pdnsutil("add-record", zone, "ns1", "A", "3600", "127.0.0.1")
        for name, rdtype, ttl, content in records:
            self._pdnsutil("add-record", zone, name, rdtype, str(ttl), content)

    def start(self) -> None:
        """Starts pdns_server and waits until its API answers with the key."""
        if not self.config.exists():
            self.prepare()
        self._launch([_program("pdns_server", PDNS_SERVER), f"--config-dir={self.root}"])
        late = f"pdns_server did not answer on its API within {START_TIMEOUT:g}s"
        self._wait_until(self._api_answers, START_TIMEOUT, 0.05, late)

    def _api_answers(self) -> bool:
        """The API answers a request with the key."""
        request = urllib.request.Request(
            f"{self.api_url}/api/v1/servers/localhost", headers={"X-API-Key": self.api_key}
        )
        try:
            with urllib.request.urlopen(request, timeout=1) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False
