"""A plan changes the MX through PowerDNS's HTTP API (dns-lexicon) with nothing but the plan and an environment
variable: `cockpit check` knows the provider's options, `check --online` lists the zone's MX and changes
nothing, `run` flips it (read back by DNS from PowerDNS), and a wrong key is one line with nothing changed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dns.asyncquery
import dns.message
import dns.rdatatype

from cockpit.lab.pdns_server import PowerDnsServer
from tests.integration.dns.conftest import PDNS_ZONE

PLAN = """\
version: 1
name: MX through the provider
domains: [ZONE]
nameservers: ["127.0.0.1:DNSPORT"]
dns: {interval: 200ms, timeout: 1s}
ttl: 60
mx:
  old: 10 mail.old-host.net.
  new: 10 mail.new-host.net.
secrets:
  pdnskey: {env: PDNS_API_KEY}
providers:
  pdns: {lexicon: powerdns, pdns_server: "URL", auth_token: {secret: pdnskey}}
phases:
  - name: after
    steps:
      - dns_update: {provider: pdns, mx: new}
        id: flip
      - wait_dns: {mx: new}
        id: everywhere
"""


def cockpit(*args: str, cwd: Path, key: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PDNS_API_KEY": key}
    return subprocess.run([sys.executable, "-m", "cockpit", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip


async def served_mx(server: PowerDnsServer) -> tuple[str, int]:
    query = dns.message.make_query(PDNS_ZONE + ".", dns.rdatatype.MX, flags=0)
    answer = await dns.asyncquery.tcp(query, "127.0.0.1", port=server.dns_port, timeout=3)
    rrset = answer.find_rrset(answer.answer, dns.name.from_text(PDNS_ZONE + "."), dns.rdataclass.IN, dns.rdatatype.MX)
    return " ".join(sorted(r.to_text() for r in rrset)), rrset.ttl


def write_plan(tmp_path: Path, pdns: PowerDnsServer, text: str = PLAN) -> Path:
    plan = tmp_path / "move.yaml"
    plan.write_text(text.replace("ZONE", PDNS_ZONE).replace("DNSPORT", str(pdns.dns_port))
                    .replace("URL", pdns.api_url))  # fmt: skip
    return plan


async def test_a_plan_flips_the_mx_through_the_api(pdns: PowerDnsServer, tmp_path: Path) -> None:
    write_plan(tmp_path, pdns)
    online = cockpit("check", "--online", "move.yaml", cwd=tmp_path, key=pdns.api_key)
    assert online.returncode == 0, online.stdout + online.stderr
    assert f"provider pdns zone {PDNS_ZONE}: MX 10 mail.old-host.net. (TTL 3600) via powerdns API" in online.stdout
    assert await served_mx(pdns) == ("10 mail.old-host.net.", 3600), "check --online changed nothing"
    ran = cockpit("run", "move.yaml", "--headless", "--yes", cwd=tmp_path, key=pdns.api_key)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "[flip] done: MX of example.test → new (TTL 60 s) via powerdns API (dns-lexicon)" in ran.stdout
    assert await served_mx(pdns) == ("10 mail.new-host.net.", 60)
    assert pdns.api_key not in ran.stdout + ran.stderr + (tmp_path / ".cockpit" / "move.yaml.journal").read_text()


async def test_a_wrong_key_is_one_line_and_changes_nothing(pdns: PowerDnsServer, tmp_path: Path) -> None:
    write_plan(tmp_path, pdns)
    wrong = "not-the-key-" + "x" * 20
    ran = cockpit("run", "move.yaml", "--headless", "--yes", cwd=tmp_path, key=wrong)
    assert ran.returncode == 1
    failed = [line for line in ran.stdout.splitlines() if "[flip] failed:" in line]
    assert len(failed) == 1 and "powerdns rejected the credentials (HTTP 401" in failed[0], ran.stdout
    assert "nothing was changed" in failed[0]
    assert wrong not in ran.stdout + ran.stderr
    assert await served_mx(pdns) == ("10 mail.old-host.net.", 3600)


def test_unknown_provider_and_option_are_located_with_a_suggestion(pdns: PowerDnsServer, tmp_path: Path) -> None:
    write_plan(tmp_path, pdns, PLAN.replace("lexicon: powerdns", "lexicon: powerdsn"))
    bad = cockpit("check", "move.yaml", cwd=tmp_path, key="k")
    assert bad.returncode == 2
    assert bad.stderr.strip() == ("move.yaml:13:19: providers.pdns: unknown DNS provider 'powerdsn' "
                                  "(did you mean 'powerdns'?)")  # fmt: skip
    write_plan(tmp_path, pdns, PLAN.replace("auth_token:", "auth_tokn:"))
    bad = cockpit("check", "move.yaml", cwd=tmp_path, key="k")
    assert bad.returncode == 2
    assert "move.yaml:13:" in bad.stderr and "unknown option 'auth_tokn' for provider powerdns (did you mean " \
        "'auth_token'?)" in bad.stderr  # fmt: skip
