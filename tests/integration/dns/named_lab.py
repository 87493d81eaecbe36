"""Private BIND instances for the address and DNSSEC tests: any listen address, any zones, `server-id` for
NSID, each in its own directory with `controls { };`. Also a second loopback address for two servers
behind one name, added with `ip addr` for the test and removed after (or ::1 when that is not allowed).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import dns.message
import dns.query
import dns.rdatatype

from tests.integration.dns.conftest import NAMED


def port_free_on(addresses: Sequence[str]) -> int:
    """A port free for TCP and UDP on every one of `addresses`."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if all(_free(address, port) for address in addresses):
            return port


def _free(address: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(family, kind) as sock:
            try:
                sock.bind((address, port))
            except OSError:
                return False
    return True


@contextlib.contextmanager
def second_loopback() -> Iterator[str]:
    """127.0.0.2 on lo for the test (named binds only addresses an interface has), or ::1 without the
    right to add it. An address that was there before is left there."""
    shown = subprocess.run(["ip", "-o", "addr", "show", "dev", "lo"], capture_output=True, text=True)
    if " 127.0.0.2/" in shown.stdout:
        yield "127.0.0.2"
        return
    added = subprocess.run(["ip", "addr", "add", "127.0.0.2/32", "dev", "lo"], capture_output=True)
    if added.returncode != 0:
        yield "::1"
        return
    try:
        yield "127.0.0.2"
    finally:
        subprocess.run(["ip", "addr", "del", "127.0.0.2/32", "dev", "lo"], capture_output=True)


@dataclass
class Named:
    directory: Path
    address: str
    port: int
    process: subprocess.Popen[bytes]

    def log(self) -> str:
        path = self.directory / "named.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def ask(self, name: str, rdtype: str, *, dnssec: bool = False) -> dns.message.Message | None:
        query = dns.message.make_query(name, rdtype, flags=0, want_dnssec=dnssec)
        try:
            return dns.query.udp(query, self.address, timeout=0.5, port=self.port)
        except Exception:
            return None

    def wait_until(self, name: str, rdtype: str = "SOA", *, signed: bool = False, seconds: float = 20.0) -> None:
        """Until the server answers `name` (with an RRSIG of that type when `signed`)."""
        deadline = time.monotonic() + seconds
        wanted = dns.rdatatype.from_text(rdtype)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"named exited ({self.process.returncode}):\n{self.log()}")
            answer = self.ask(name, rdtype, dnssec=signed)
            served = answer.answer if answer is not None else []
            if served and (not signed or any(r.rdtype == dns.rdatatype.RRSIG and r.covers == wanted for r in served)):
                return
            time.sleep(0.05)
        raise AssertionError(f"named did not serve {name} {rdtype} within {seconds:g} s:\n{self.log()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_named(directory: Path, address: str, port: int, body: str, *, server_id: str = "") -> Named:
    """named in the foreground on `address`:`port` with the zone statements in `body`."""
    assert NAMED is not None
    directory.mkdir(parents=True, exist_ok=True)
    v4 = address if ":" not in address else "none"
    v6 = address if ":" in address else "none"
    listen_v4 = f"listen-on port {port} {{ {v4}; }};" if v4 != "none" else "listen-on { none; };"
    listen_v6 = f"listen-on-v6 port {port} {{ {v6}; }};" if v6 != "none" else "listen-on-v6 { none; };"
    (directory / "keys").mkdir(exist_ok=True)
    config = f"""\
options {{
    directory "{directory}";
    key-directory "{directory}/keys";
    pid-file "{directory}/named.pid";
    session-keyfile "{directory}/session.key";
    {listen_v4}
    {listen_v6}
    recursion no;
    dnssec-validation no;
    notify no;
    allow-transfer {{ any; }};
    {f'server-id "{server_id}";' if server_id else ""}
}};
controls {{ }};
{body}
"""
    (directory / "named.conf").write_text(config)
    log = (directory / "named.log").open("wb")
    process = subprocess.Popen([NAMED, "-g", "-c", str(directory / "named.conf")], stdout=log, stderr=log)
    return Named(directory, address, port, process)


def presign(directory: Path, zone: str, zone_text: str, *, start: str, end: str, drop_mx_rrsig: bool = False) -> Path:
    """A zone file signed by dnssec-signzone with the given validity (YYYYMMDDHHMMSS), one record per line;
    with `drop_mx_rrsig` the MX loses its signature while everything else keeps one."""
    work = directory / f"sign-{zone}"
    work.mkdir(parents=True)
    keygen = shutil.which("dnssec-keygen") or "/usr/bin/dnssec-keygen"
    signzone = shutil.which("dnssec-signzone") or "/usr/bin/dnssec-signzone"
    text = zone_text
    for flags in ([], ["-f", "KSK"]):
        made = subprocess.run(
            [keygen, "-q", "-K", str(work), "-P", "20190101000000", "-A", "20190101000000", "-a", "ECDSAP256SHA256",
             *flags, "-n", "ZONE", zone],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        text += f"$INCLUDE {work / made.stdout.strip()}.key\n"
    unsigned = work / f"{zone}.db"
    unsigned.write_text(text)
    signed = directory / f"{zone}.signed"
    subprocess.run(
        [signzone, "-P", "-q", "-K", str(work), "-O", "full", "-o", zone, "-s", start, "-e", end, "-f", str(signed),
         str(unsigned)],
        capture_output=True, check=True, cwd=work,
    )  # fmt: skip
    if drop_mx_rrsig:
        lines = signed.read_text().splitlines()
        signed.write_text("\n".join(line for line in lines if not _is_mx_rrsig(line)) + "\n")
    return signed


def _is_mx_rrsig(line: str) -> bool:
    fields = line.split()
    return "RRSIG" in fields and fields[fields.index("RRSIG") + 1 : fields.index("RRSIG") + 2] == ["MX"]


def have_dnssec_tools() -> bool:
    return bool(shutil.which("dnssec-keygen") and shutil.which("dnssec-signzone"))
