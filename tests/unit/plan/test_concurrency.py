"""`concurrency:` on the steps that fan out: a default per kind, a bound, and an error anywhere else."""

from __future__ import annotations

import pytest

from cockpit.plan import CanaryStep, DnsUpdateStep, PlanError, VerifyStep, parse_plan

PLAN = """\
version: 1
name: Fan-out
domains: [example.com]
ttl: 600
mx: {old: mail.old-host.net., new: mail.new-host.net.}
hosts: {old: {address: old.example.net}, new: {address: new.example.net}}
secrets: {dnskey: {env: COCKPIT_TSIG}}
stores:
  a: {host: old, format: maildir, path: "/home/{user}/Maildir"}
  b: {host: new, format: maildir, path: "/home/{user}/Maildir"}
phases:
  - name: p
    steps:
STEPS"""


def steps(text: str) -> str:
    return PLAN.replace("STEPS", text)


def errors(text: str) -> list[str]:
    with pytest.raises(PlanError) as info:
        parse_plan(text, "p.yaml")
    return [str(issue) for issue in info.value.issues]


def test_each_kind_that_fans_out_has_a_default_and_takes_the_plans_value() -> None:
    plan = parse_plan(steps("""\
      - dns_update: {server: ns1.example.net, key: dnskey, mx: new}
      - dns_update: {server: ns1.example.net, key: dnskey, mx: new, concurrency: 64}
      - verify: {from: a, to: b}
      - verify: {from: a, to: b}
        concurrency: 1
      - canary: {expect: refused}
      - canary: {expect: delivered, to: "postmaster@{domain}", store: b, concurrency: 32}
"""), "p.yaml")  # fmt: skip
    found = [(type(step), step.workers) for _, step in plan.steps()]
    assert found == [(DnsUpdateStep, 16), (DnsUpdateStep, 64), (VerifyStep, 4), (VerifyStep, 1),
                     (CanaryStep, 8), (CanaryStep, 32)]  # fmt: skip


def test_concurrency_elsewhere_or_out_of_range_is_a_located_error() -> None:
    text = steps("""\
      - ssh: {host: new, run: "true"}
        concurrency: 4
      - verify: {from: a, to: b, concurrency: 0}
""")
    assert errors(text) == [
        "p.yaml:14:9: step 1 of phase 'p': 'concurrency' is for steps that fan out (dns_update, sync, verify, canary), not ssh",
        "p.yaml:16:47: step 2 of phase 'p': concurrency: must be at least 1, got 0",
    ]
