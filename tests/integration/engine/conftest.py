"""The method's servers on loopback for engine runs: a TSIG-updatable primary and a lagging secondary
nameserver, and two SSH hosts (old, new) that run real shell commands in their sandboxes."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import dns.rdatatype
import pytest

from cockpit.lab.dns_secondary import LaggingSecondary
from cockpit.lab.dns_zone import LabZone
from cockpit.lab.nameserver import LabNameserver, tsig_key
from cockpit.lab.ssh_host import LabSshHost

SECRET = base64.b64encode(b"canary-tsig-secret-0123456789abc").decode()
KEY_NAME = "cockpit-test-key"
OLD = [(10, "mail.old-host.net.")]
INITIAL_TTL = 3


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class MethodLab:
    root: Path
    primary: LabNameserver
    secondary: LabNameserver
    old: LabSshHost
    new: LabSshHost
    refusing_port: int

    def plan_text(self, phases: str, *, key_file: str = "tsig.key") -> str:
        def host(lab: LabSshHost) -> str:
            return (
                f"{{address: 127.0.0.1, port: {lab.port}, user: lab, known_hosts: {lab.known_hosts}, "
                f"identity: {lab.client_key}}}"
            )

        return f"""\
version: 1
name: Engine end-to-end
domains: [example.com]
nameservers:
  - {{name: ns1.example.com, address: 127.0.0.1, port: {self.primary.port}}}
  - {{name: ns2.example.com, address: 127.0.0.1, port: {self.secondary.port}}}
dns: {{interval: 200ms, timeout: 1s}}
ttl: 1
mx:
  old: 10 mail.old-host.net.
  parking: 10 parked.new-host.net.
  new: 10 mail.new-host.net.
hosts:
  old: {host(self.old)}
  new: {host(self.new)}
secrets:
  dnskey: {{file: {key_file}}}
phases:
{phases}"""

    def write_plan(self, phases: str, name: str = "plan.yaml", **kwargs: str) -> Path:
        path = self.root / name
        path.write_text(self.plan_text(phases, **kwargs))
        return path

    @staticmethod
    def served_mx(ns: LabNameserver) -> tuple[str, int]:
        """The MX the server holds now (rdata text) and its TTL."""
        zone = ns.zone("example.com")
        rrset = zone.rrsets[(zone.origin, dns.rdatatype.MX)]
        return " ".join(sorted(r.to_text() for r in rrset)), rrset.ttl


THREE_PHASES = """\
  - name: before
    steps:
      - dns_update: {server: "127.0.0.1:PRIMARY", key: dnskey, mx: old, ttl: 1}
        id: lower-ttl
      - wait_dns: {ttl_at_most: 1}
        id: ttl-low
      - ssh: {host: new, run: "mkdir -p store && echo created"}
        id: create-store
      - ssh: {host: old, run: "mkdir -p store && for i in 1 2 3; do echo m$i > store/msg$i; done; tar -cf bulk.tar -C store ."}
        id: bulk-export
      - transfer: {from: "old:bulk.tar", to: "new:bulk.tar"}
        id: bulk-copy
      - ssh: {host: new, run: "tar -xf bulk.tar -C store && ls store"}
        id: bulk-import
      - port: {address: 127.0.0.1, port: REFUSING, expect: closed}
        id: parking-refuses
  - name: during
    steps:
      - dns_update: {server: "127.0.0.1:PRIMARY", key: dnskey, mx: parking}
        id: mx-to-parking
      - wait_dns: {mx: parking}
        id: parking-everywhere
      - countdown: old_ttl
        id: old-ttl
      - ssh: {host: old, run: "echo m4 > store/msg4 && tar -cf delta.tar -C store msg4"}
        id: delta-export
      - transfer: {from: "old:delta.tar", to: "new:delta.tar"}
        id: delta-copy
      - ssh: {host: new, run: "tar -xf delta.tar -C store && ls store | wc -l"}
        id: delta-import
  - name: after
    steps:
      - dns_update: {server: "127.0.0.1:PRIMARY", key: dnskey, mx: new}
        id: mx-to-new
      - wait_dns: {mx: new}
        id: new-everywhere
      - port: {address: 127.0.0.1, port: NEWPORT, expect: open}
        id: new-listens
"""


def three_phases(lab: MethodLab) -> str:
    return (
        THREE_PHASES.replace("PRIMARY", str(lab.primary.port))
        .replace("REFUSING", str(lab.refusing_port))
        .replace("NEWPORT", str(lab.new.port))
    )


@pytest.fixture
async def method_lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[MethodLab]:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    zone = LabZone.build("example.com", mx=OLD, mx_ttl=INITIAL_TTL, serial=1)
    key = tsig_key(KEY_NAME, SECRET)
    (tmp_path / "tsig.key").write_text(f'key "{KEY_NAME}" {{\n\talgorithm hmac-sha256;\n\tsecret "{SECRET}";\n}};\n')
    async with (
        LabNameserver([zone], keys=[key]) as primary,
        LabNameserver([]) as secondary,
        LabSshHost(tmp_path / "old", name="old") as old,
        LabSshHost(tmp_path / "new", name="new") as new,
    ):
        follower = LaggingSecondary(primary, secondary, lag=0.6)
        try:
            yield MethodLab(tmp_path, primary, secondary, old, new, closed_port())
        finally:
            await follower.stop()


@dataclass
class Finished:
    code: int
    stdout: str
    stderr: str


async def cockpit(*args: str, cwd: Path, stdin: bytes = b"", timeout: float = 120.0) -> Finished:
    """Runs the real command line in a child process while this loop keeps serving the lab."""
    env = dict(os.environ)
    env.pop("SSH_AUTH_SOCK", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cockpit",
        *args,
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(stdin), timeout)
    except TimeoutError:
        process.kill()
        out, err = await process.communicate()
        raise AssertionError(f"cockpit {' '.join(args)} did not finish:\n{out.decode()}\n{err.decode()}") from None
    assert process.returncode is not None
    return Finished(process.returncode, out.decode(), err.decode())
