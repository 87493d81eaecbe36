"""What the details pane and the confirmations say a canary sends: the addresses, never a `{domain}` template."""

from __future__ import annotations

from pathlib import Path

from cockpit.plan import load_plan
from cockpit.ui.panes.step_text import exact_action

PLAN = """\
version: 1
name: Canaries
domains: [{domains}]
nameservers: ["127.0.0.1:53"]
mx:
  parking: "10 mx.shared.test."
hosts:
  new: {{address: 127.0.0.1, user: lab}}
stores:
  by-domain: {{host: new, format: maildir, path: "/srv/mail/{{domain}}/{{user}}"}}
phases:
  - name: proof
    steps:
      - canary: {{expect: delivered, to: "postmaster@{{domain}}", store: by-domain}}
        id: each
      - canary: {{expect: delivered, to: "alice@a.test", store: by-domain}}
        id: one
"""


def sends(tmp_path: Path, domains: list[str]) -> dict[str, str]:
    path = tmp_path / "plan.yaml"
    path.write_text(PLAN.format(domains=", ".join(domains)))
    plan = load_plan(path).plan
    return {step.id: dict(exact_action(plan, step))["sends"] for _, step in plan.steps()}


def test_a_canary_per_domain_names_the_addresses_it_sends_to(tmp_path: Path) -> None:
    shown = sends(tmp_path, ["a.test", "b.test"])
    assert shown == {
        "each": "one message per domain: to postmaster@a.test, postmaster@b.test",
        "one": "one message to alice@a.test",
    }


def test_many_domains_name_the_first_three_and_count_all(tmp_path: Path) -> None:
    shown = sends(tmp_path, [f"d{i}.test" for i in range(1200)] + ["a.test"])
    assert shown["each"] == (
        "one message per domain: to postmaster@d0.test, postmaster@d1.test, postmaster@d2.test, … (1,201 in all)"
    )
