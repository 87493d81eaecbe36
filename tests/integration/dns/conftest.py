"""A real BIND primary and secondary on loopback ports, each in its own directory with `controls { };`,
and a real PowerDNS Authoritative with its HTTP API (the DNS provider of the lexicon tests).

The primary takes TSIG-signed updates and does not NOTIFY: the secondary keeps serving the old MX until
the test sends the NOTIFY itself — a real "not yet propagated" nameserver, on cue.
Under CI=true a missing `named` or `pdns_server` fails the tests instead of skipping them.
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dns.flags
import dns.message
import dns.opcode
import dns.query
import dns.rdatatype
import pytest

from cockpit.lab.pdns_server import PowerDnsServer, pdns_missing
from tests.integration.dns.http_front import HttpFront
from tests.support import missing, require

NAMED = shutil.which("named") or ("/usr/sbin/named" if Path("/usr/sbin/named").exists() else None)
KEY_NAME = "cockpit-key"
SECRET = base64.b64encode(os.urandom(32)).decode()
ZONE = "example.com"
ZONE_FILE = """\
$TTL 3600
@       IN SOA  ns1.example.com. hostmaster.example.com. ( 100 3600 600 86400 300 )
        IN NS   ns1.example.com.
        IN MX   10 mail.old-host.net.
ns1     IN A    127.0.0.1
"""


def _free_port() -> int:
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


def _options(directory: Path, port: int) -> str:
    return f"""\
options {{
    directory "{directory}";
    pid-file "{directory}/named.pid";
    session-keyfile "{directory}/session.key";
    listen-on port {port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    recursion no;
    dnssec-validation no;
    notify no;
    allow-transfer {{ 127.0.0.1; }};
}};
controls {{ }};
"""


@dataclass
class Bind:
    directory: Path
    port: int
    process: subprocess.Popen[bytes]

    def log(self) -> str:
        path = self.directory / "named.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def _start(directory: Path, port: int, config: str) -> Bind:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "named.conf").write_text(config)
    assert NAMED is not None
    log = (directory / "named.log").open("wb")
    process = subprocess.Popen([NAMED, "-g", "-c", str(directory / "named.conf")], stdout=log, stderr=log)
    return Bind(directory, port, process)


def _serving(bind: Bind) -> bool:
    query = dns.message.make_query(ZONE, dns.rdatatype.SOA, flags=0)
    try:
        response = dns.query.udp(query, "127.0.0.1", timeout=0.5, port=bind.port)
    except Exception:
        return False
    return bool(response.answer)


def _wait_serving(bind: Bind) -> None:
    for _ in range(100):
        if bind.process.poll() is not None:
            raise AssertionError(f"named exited ({bind.process.returncode}):\n{bind.log()}")
        if _serving(bind):
            return
        time.sleep(0.1)
    raise AssertionError(f"named did not serve {ZONE} within 10 s:\n{bind.log()}")


def _stop(bind: Bind) -> None:
    if bind.process.poll() is None:
        bind.process.terminate()
        try:
            bind.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            bind.process.kill()
            bind.process.wait()


@dataclass
class BindPair:
    primary: Bind
    secondary: Bind
    key_file: Path

    async def notify_secondary(self) -> None:
        """Send the NOTIFY the primary was told not to send: the secondary then transfers the zone."""
        message = dns.message.make_query(ZONE, dns.rdatatype.SOA, flags=0)
        message.set_opcode(dns.opcode.NOTIFY)
        message.flags |= dns.flags.AA
        await asyncio.to_thread(dns.query.udp, message, "127.0.0.1", 2.0, self.secondary.port)


@pytest.fixture
def bind_pair(tmp_path: Path) -> Iterator[BindPair]:
    require(NAMED, "named (bind9)")
    key_text = f'key "{KEY_NAME}" {{\n\talgorithm hmac-sha256;\n\tsecret "{SECRET}";\n}};\n'
    key_file = tmp_path / "tsig.key"
    key_file.write_text(key_text)
    p_port, s_port = _free_port(), _free_port()
    p_dir, s_dir = tmp_path / "primary", tmp_path / "secondary"
    primary_conf = (
        _options(p_dir, p_port)
        + key_text
        + f"""\
zone "{ZONE}" {{
    type primary;
    file "{ZONE}.db";
    update-policy {{ grant {KEY_NAME} zonesub ANY; }};
}};
"""
    )
    secondary_conf = (
        _options(s_dir, s_port)
        + f"""\
zone "{ZONE}" {{
    type secondary;
    primaries {{ 127.0.0.1 port {p_port}; }};
    file "{ZONE}.db";
}};
"""
    )
    p_dir.mkdir(parents=True)
    (p_dir / f"{ZONE}.db").write_text(ZONE_FILE)
    primary = _start(p_dir, p_port, primary_conf)
    secondary = None
    try:
        _wait_serving(primary)
        secondary = _start(s_dir, s_port, secondary_conf)
        _wait_serving(secondary)
        yield BindPair(primary, secondary, key_file)
    finally:
        _stop(primary)
        if secondary is not None:
            _stop(secondary)


PDNS_ZONE = "example.test"


@pytest.fixture(scope="module")
def pdns_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The database of zone example.test made once per module: each test's server starts from a copy."""
    absent = pdns_missing()
    if absent is not None:
        missing(f"{absent} is not installed (make servers installs pdns-server and pdns-backend-sqlite3)")
    template = PowerDnsServer(tmp_path_factory.mktemp("pdns-template"))
    template.create_zone(PDNS_ZONE, serial=100, records=[("@", "MX", 3600, "10 mail.old-host.net.")])
    return template.database


@pytest.fixture
def pdns(pdns_database: Path, tmp_path: Path) -> Iterator[PowerDnsServer]:
    """PowerDNS with zone example.test: MX 10 mail.old-host.net. (TTL 3600), SOA serial 100."""
    server = PowerDnsServer(tmp_path / "pdns")
    server.root.mkdir()
    shutil.copyfile(pdns_database, server.database)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def front(pdns: PowerDnsServer) -> Iterator[HttpFront]:
    """An HTTP server between lexicon and the PowerDNS API, for 429s and silence on cue."""
    server = HttpFront(pdns.api_url)
    server.start()
    try:
        yield server
    finally:
        server.stop()
