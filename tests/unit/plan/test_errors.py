"""Every class of plan error, with its exact `PLAN:LINE:COL: message`."""

from __future__ import annotations

import pytest

from cockpit.plan import PlanError, parse_plan

BASE = """\
version: 1
name: Test move
domains: [example.com]
ttl: 600
mx:
  old: mail.old-host.net.
  parking: parked.new-host.net.
  new: mail.new-host.net.
hosts:
  old: {address: old.example.net, user: root}
  new: {address: new.example.net, user: root}
secrets:
  dnskey: {env: COCKPIT_TSIG}
phases:
  - name: before
    steps:
      - confirm: Lower the MX TTL
      - wait_dns: {ttl_at_most: 600}
      - ssh: {host: new, run: /root/bin/create-accounts}
"""


def errors(text: str) -> list[str]:
    with pytest.raises(PlanError) as info:
        parse_plan(text, "p.yaml")
    return [str(issue) for issue in info.value.issues]


def replace(old: str, new: str) -> str:
    assert old in BASE
    return BASE.replace(old, new)


def test_the_base_plan_is_valid() -> None:
    plan = parse_plan(BASE, "p.yaml")
    assert [step.id for _, step in plan.steps()] == ["before-1", "before-2", "before-3"]


def test_unknown_host_names_the_known_ones() -> None:
    text = replace("{host: new, run:", "{host: newer, run:")
    assert errors(text) == ["p.yaml:19:21: step 3 of phase 'before': unknown host 'newer' (hosts: old, new)"]


def test_unknown_host_when_there_are_no_hosts() -> None:
    text = replace(
        "hosts:\n  old: {address: old.example.net, user: root}\n  new: {address: new.example.net, user: root}\n",
        "",
    )
    assert errors(text) == [
        "p.yaml:16:21: step 3 of phase 'before': unknown host 'new': the plan has no 'hosts' section"
    ]


def test_unknown_top_level_key_suggests_the_closest() -> None:
    assert errors(replace("ttl: 600", "tll: 600")) == ["p.yaml:4:1: unknown key 'tll' (did you mean 'ttl'?)"]


def test_unknown_nested_key_suggests_the_closest() -> None:
    text = replace("{address: new.example.net, user: root}", "{adress: new.example.net, user: root}")
    assert errors(text) == ["p.yaml:11:9: host 'new': unknown key 'adress' (did you mean 'address'?)"]


def test_unknown_step_key_suggests_a_kind() -> None:
    text = replace("- wait_dns: {ttl_at_most: 600}", "- wait_dsn: {ttl_at_most: 600}")
    assert errors(text) == ["p.yaml:18:9: step 2 of phase 'before': unknown key 'wait_dsn' (did you mean 'wait_dns'?)"]


def test_unknown_key_inside_a_step_suggests_the_closest() -> None:
    text = replace("{host: new, run:", "{host: new, rnu:")
    assert errors(text) == [
        "p.yaml:19:9: step 3 of phase 'before': missing required key 'run'",
        "p.yaml:19:26: step 3 of phase 'before': unknown key 'rnu' (did you mean 'run'?)",
    ]


def test_duplicate_keys_are_errors() -> None:
    text = replace("ttl: 600\n", "ttl: 600\nttl: 300\n")
    assert errors(text) == ["p.yaml:5:1: duplicate key 'ttl' (first at line 4)"]


def test_duplicate_keys_in_flow_mappings() -> None:
    text = replace("{address: old.example.net, user: root}", "{address: old.example.net, user: root, user: x}")
    assert errors(text) == ["p.yaml:10:47: duplicate key 'user' (first at line 10)"]


@pytest.mark.parametrize("word", ["NO", "off", "yes", "On"])
def test_yaml11_booleans_must_be_quoted(word: str) -> None:
    text = replace("name: Test move", f"name: {word}")
    (line,) = errors(text)
    assert line.startswith(f"p.yaml:2:7: '{word}' is read as the boolean ")
    assert f'quote it ("{word}")' in line


def test_leading_zero_port_must_be_written_plainly() -> None:
    text = replace("{address: old.example.net, user: root}", "{address: old.example.net, port: 0022}")
    assert errors(text) == [
        "p.yaml:10:41: '0022' has a leading zero, which YAML 1.1 tools read as an octal number (octal 18): "
        'write 22 for the number, or quote it ("0022") for text'
    ]


def test_sexagesimal_is_flagged() -> None:
    text = replace("phases:", "dns: {interval: 1:30}\nphases:")
    assert errors(text) == [
        "p.yaml:14:17: '1:30' is read as a base-60 number by YAML 1.1 tools: quote it (\"1:30\") "
        "or write a duration like 1h30m"
    ]


def test_bad_duration() -> None:
    text = replace("phases:", "dns: {interval: 60x}\nphases:")
    assert errors(text) == ["p.yaml:14:17: dns.interval: expected a duration like 90s, 10m or 1h30m, got '60x'"]


def test_negative_interval() -> None:
    text = replace("phases:", "dns: {timeout: 0}\nphases:")
    assert errors(text) == ["p.yaml:14:16: dns.timeout: must be greater than 0, got 0"]


def test_inline_secret_is_refused_without_echoing_it() -> None:
    text = replace("dnskey: {env: COCKPIT_TSIG}", "dnskey: hunter2-canary")
    (line,) = errors(text)
    assert (
        line == "p.yaml:13:11: secret 'dnskey': a secret is never written in the plan; use {file: PATH} or {env: NAME}"
    )
    assert "hunter2" not in line


def test_secret_value_key_is_refused_without_echoing_it() -> None:
    text = replace("dnskey: {env: COCKPIT_TSIG}", "dnskey: {value: hunter2-canary}")
    (line,) = errors(text)
    assert line == (
        "p.yaml:13:12: secret 'dnskey': unknown key 'value': a secret is never written in the plan; "
        "use {file: PATH} or {env: NAME}"
    )


def test_secret_needs_exactly_one_source() -> None:
    text = replace("dnskey: {env: COCKPIT_TSIG}", "dnskey: {env: A, file: /b}")
    assert errors(text) == [
        "p.yaml:13:11: secret 'dnskey': a secret is {file: PATH} or {env: NAME}, exactly one of them"
    ]


def test_unknown_secret_and_mx_state_in_dns_update() -> None:
    text = BASE + "      - dns_update: {server: ns1.example.com, key: dnskey2, mx: parkin}\n"
    assert errors(text) == [
        "p.yaml:20:52: step 4 of phase 'before': unknown secret 'dnskey2' (secrets: dnskey)",
        "p.yaml:20:65: step 4 of phase 'before': unknown MX state 'parkin' (mx: old, parking, new)",
    ]


def test_dns_update_needs_a_ttl_somewhere() -> None:
    text = replace("ttl: 600\n", "").replace("{ttl_at_most: 600}", "{mx: old}")
    text += "      - dns_update: {server: ns1.example.com, key: dnskey, mx: new}\n"
    assert errors(text) == ["p.yaml:19:9: step 4 of phase 'before': dns_update needs 'ttl' (or set the plan's 'ttl')"]


def test_transfer_endpoints_must_name_plan_hosts() -> None:
    text = BASE + '      - transfer: {from: "oldie:/a", to: "new"}\n'
    assert errors(text) == [
        "p.yaml:20:26: step 4 of phase 'before': unknown host 'oldie' (hosts: old, new)",
        "p.yaml:20:42: step 4 of phase 'before': to: expected HOST:PATH (a plan host, a colon, a path), got 'new'",
    ]


def test_step_ids_are_unique() -> None:
    text = BASE + "      - countdown: 10m\n        id: wait\n      - countdown: {wait: old_ttl, id: wait}\n"
    assert errors(text) == [
        "p.yaml:22:40: step 5 of phase 'before': step id 'wait' is already used by step 4 of phase 'before'"
    ]


def test_phase_names_are_unique() -> None:
    text = BASE + "  - name: before\n    steps:\n      - confirm: Again\n"
    assert errors(text) == ["p.yaml:20:11: phase 'before': name: phase name 'before' is used twice"]


def test_mx_states_must_differ() -> None:
    text = replace("parking: parked.new-host.net.", "parking: Mail.Old-Host.net")
    assert errors(text) == ["p.yaml:7:12: MX state 'parking' has the same records as 'old'; each state must differ"]


def test_wait_dns_needs_one_condition() -> None:
    text = replace("{ttl_at_most: 600}", "{ttl_at_most: 600, mx: new}")
    assert errors(text) == [
        "p.yaml:18:9: step 2 of phase 'before': wait_dns needs exactly one of 'mx: STATE' or 'ttl_at_most: SECONDS'"
    ]


def test_literal_choice() -> None:
    text = BASE + "      - port: {address: a.example.net, port: 25, expect: closd}\n"
    assert errors(text) == ["p.yaml:20:58: step 4 of phase 'before': expect: expected 'open' or 'closed', got 'closd'"]


def test_step_with_two_kinds() -> None:
    text = replace("- confirm: Lower the MX TTL", "- confirm: Lower the MX TTL\n        countdown: 5m")
    assert errors(text) == [
        "p.yaml:18:9: step 1 of phase 'before': a step has exactly one kind, found 'confirm' and 'countdown'"
    ]


def test_step_without_value() -> None:
    text = replace("- confirm: Lower the MX TTL", "- confirm")
    assert errors(text) == ["p.yaml:17:9: step 1 of phase 'before': 'confirm' needs a value ('confirm: ...')"]


def test_common_key_given_twice() -> None:
    text = replace(
        "- ssh: {host: new, run: /root/bin/create-accounts}",
        "- ssh: {host: new, run: x, id: a}\n        id: b",
    )
    assert errors(text) == ["p.yaml:20:9: step 3 of phase 'before': 'id' is given twice (beside 'ssh' and inside it)"]


def test_mapping_kind_written_as_scalar() -> None:
    text = replace("- ssh: {host: new, run: /root/bin/create-accounts}", "- ssh: /root/bin/create-accounts")
    assert errors(text) == ["p.yaml:19:14: step 3 of phase 'before': write 'ssh: {...}'"]


def test_missing_required_keys_are_all_reported() -> None:
    assert errors("version: 1\nname: x\n") == [
        "p.yaml:1:1: missing required key 'domains' (or 'domains_file')",
        "p.yaml:1:1: missing required key 'mx'",
        "p.yaml:1:1: missing required key 'phases'",
    ]


def test_wrong_version() -> None:
    assert errors(replace("version: 1", "version: 2"))[0] == "p.yaml:1:10: version: expected 1, got 2"


def test_bad_domain_and_nameserver() -> None:
    text = replace("domains: [example.com]", "domains: [example]\nnameservers: ['ns1:99999']")
    assert errors(text) == [
        "p.yaml:3:11: domain 1: 'example' is not a domain name (it has no dot)",
        "p.yaml:4:15: nameserver 1: port 99999 in 'ns1:99999' is out of range 1-65535",
    ]


def test_many_errors_are_reported_together_in_file_order() -> None:
    text = replace("ttl: 600", "ttl: -1").replace("{host: new, run:", "{host: newer, run:").replace("tml", "x")
    found = errors(text)
    assert [line.split(":")[1] for line in found] == ["4", "19"]
