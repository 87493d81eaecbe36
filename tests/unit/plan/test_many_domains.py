"""Plans of many domains: `domains_file` and MX states whose records differ per domain, with located errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit.plan import PlanError, load_plan, parse_plan
from cockpit.plan.mx_summary import describe_state
from cockpit.plan.values import MxRecord

PLAN = """\
version: 1
name: Many domains
domains_file: domains.txt
mx:
  old: {default: "10 mail.old.net.", per_domain: {example.org: "10 mx.legacy.org."}}
  parking: "10 parking.new.net."
  new: 10 mail.new.net.
phases:
  - name: p
    steps:
      - confirm: Nothing
"""


def write(tmp_path: Path, domains: str, plan: str = PLAN) -> Path:
    (tmp_path / "domains.txt").write_text(domains)
    path = tmp_path / "plan.yaml"
    path.write_text(plan)
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(PlanError) as info:
        load_plan(path)
    return [str(issue).replace(f"{path.parent}/", "") for issue in info.value.issues]


def many(count: int) -> str:
    return "".join(f"d{i}.example\n" for i in range(count))


def test_domains_file_gives_the_plan_its_domains(tmp_path: Path) -> None:
    path = write(tmp_path, "# moved from srv7\nExample.org.\n\nexample.net   # legacy MX\n" + many(4998))
    plan = load_plan(path).plan
    assert plan.domains[:3] == ("example.org", "example.net", "d0.example")
    assert len(plan.domains) == 5000
    assert plan.domains_file == "domains.txt"


def test_domains_file_is_part_of_the_plan_digest(tmp_path: Path) -> None:
    path = write(tmp_path, "example.org\nexample.net\n")
    first = load_plan(path).sha256
    assert load_plan(path).sha256 == first
    (tmp_path / "domains.txt").write_text("example.org\nexample.net\n# a comment changes nothing\n")
    assert load_plan(path).sha256 == first
    (tmp_path / "domains.txt").write_text("example.org\nexample.com\n")
    assert load_plan(path).sha256 != first


def test_bad_domain_lines_are_located_in_the_domains_file(tmp_path: Path) -> None:
    path = write(tmp_path, "example.org\nexample.net\nfoo..bar\nlocalhost\n\nexample.org\n")
    assert problems(path) == [
        "domains.txt:3:1: 'foo..bar' is not a valid host name",
        "domains.txt:4:1: 'localhost' is not a domain name (it has no dot)",
        "domains.txt:6:1: domain 'example.org' is listed twice (first at line 1)",
    ]


def test_missing_and_empty_domains_files_are_located_in_the_plan(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    assert problems(path) == [
        "plan.yaml:3:15: domains file domains.txt lists no domain (one per line, '#' starts a comment)"
    ]
    (tmp_path / "domains.txt").write_text("# only comments\n\n")
    assert len(problems(path)) == 1
    (tmp_path / "domains.txt").unlink()
    assert problems(path) == ["plan.yaml:3:15: cannot read domains file domains.txt: no such file"]


def test_invalid_utf8_in_the_domains_file(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    (tmp_path / "domains.txt").write_bytes(b"example.org\nexample.net\nbad\xff.example\n")
    assert problems(path) == ["domains.txt:3:1: invalid UTF-8 (byte 0xff); save the file as UTF-8"]


def test_domains_and_domains_file_exclude_each_other(tmp_path: Path) -> None:
    path = write(tmp_path, "example.org\n", PLAN.replace("domains_file:", "domains: [example.org]\ndomains_file:"))
    assert problems(path) == ["plan.yaml:4:1: give 'domains' or 'domains_file', not both"]


def test_neither_domains_nor_domains_file() -> None:
    text = PLAN.replace("domains_file: domains.txt\n", "")
    with pytest.raises(PlanError) as info:
        parse_plan(text, "p.yaml")
    assert [str(issue) for issue in info.value.issues] == [
        "p.yaml:1:1: missing required key 'domains' (or 'domains_file')"
    ]


def test_many_problems_are_counted_after_the_first_fifty(tmp_path: Path) -> None:
    path = write(tmp_path, "".join(f"bad_{i}\n" for i in range(80)))
    found = problems(path)
    assert len(found) == 51
    assert found[-1] == "domains.txt:51:1: and 30 more problems"


def test_mx_records_per_domain(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, "example.org\nexample.net\n" + many(3))).plan
    assert plan.mx_records("old", "example.org") == (MxRecord("mx.legacy.org.", 10),)
    assert plan.mx_records("old", "example.net") == (MxRecord("mail.old.net.", 10),)
    assert plan.mx_records("new", "example.org") == (MxRecord("mail.new.net.", 10),)
    assert plan.mx_states("d0.example") is plan.mx_states("d2.example"), "domains without exceptions share one"
    assert plan.mx_states("example.org")["old"] == (MxRecord("mx.legacy.org.", 10),)
    assert plan.mx_per_domain
    assert describe_state(plan, "old") == (
        "4 domains 10 mail.old.net. (example.net, d0.example, d1.example, d2.example), "
        "1 domain 10 mx.legacy.org. (example.org)"
    )
    assert describe_state(plan, "parking") == "10 parking.new.net."


def test_simple_mx_form_stays_valid_and_means_every_domain() -> None:
    plan = parse_plan(PLAN.replace("domains_file: domains.txt", "domains: [example.org, example.com]")
                      .replace('{default: "10 mail.old.net.", per_domain: {example.org: "10 mx.legacy.org."}}',
                               "[mail.old.net., 20 backup.old.net.]"))  # fmt: skip
    assert not plan.mx_per_domain
    assert plan.mx_records("old", "example.com") == (MxRecord("mail.old.net."), MxRecord("backup.old.net.", 20))
    assert plan.mx_states("example.org") == plan.mx_states("example.com")


def test_per_domain_key_must_be_a_plan_domain(tmp_path: Path) -> None:
    path = write(tmp_path, "example.org\nexample.net\n", PLAN.replace("{example.org:", "{exmaple.org:"))
    assert problems(path) == [
        "plan.yaml:5:51: MX state 'old': per_domain: 'exmaple.org' is not one of the plan's domains "
        "(closest: example.org)"
    ]


def test_two_states_with_the_same_records_for_one_domain(tmp_path: Path) -> None:
    text = PLAN.replace('new: 10 mail.new.net.', 'new: {default: "10 mail.new.net.", per_domain: '
                        '{example.net: "10 parking.new.net."}}')  # fmt: skip
    path = write(tmp_path, "example.org\nexample.net\n", text)
    assert problems(path) == [
        "plan.yaml:7:64: MX state 'new' has the same records as 'parking' for example.net (10 parking.new.net.): "
        "the watcher could not tell them apart; each state must differ for every domain"
    ]


def test_a_per_domain_exception_can_make_a_domain_distinct_again(tmp_path: Path) -> None:
    text = PLAN.replace('new: 10 mail.new.net.', 'new: {default: "10 parking.new.net.", per_domain: '
                        '{example.org: "10 mail.new.net."}}')  # fmt: skip
    path = write(tmp_path, "example.org\nexample.net\n", text)
    found = problems(path)
    assert found == ["plan.yaml:7:8: MX state 'new' has the same records as 'parking'; each state must differ"]
    (tmp_path / "domains.txt").write_text("example.org\n")
    assert load_plan(path).plan.mx_records("new", "example.org") == (MxRecord("mail.new.net.", 10),)


def test_bad_records_in_the_per_domain_form_are_located(tmp_path: Path) -> None:
    text = PLAN.replace('"10 mx.legacy.org."', '"10 mx.legacy.org. extra"').replace("per_domain:", "per_domian:")
    path = write(tmp_path, "example.org\n", text)
    assert problems(path) == ["plan.yaml:5:38: MX state 'old': unknown key 'per_domian' (did you mean 'per_domain'?)"]
    path = write(tmp_path, "example.org\n", PLAN.replace('"10 mx.legacy.org."', '"10 mx.legacy.org. extra"'))
    assert problems(path) == [
        "plan.yaml:5:64: MX state 'old': per_domain.example.org: expected 'HOST' or 'PREFERENCE HOST' for an MX "
        "record, got '10 mx.legacy.org. extra'"
    ]


def test_simple_form_errors_read_as_before() -> None:
    text = PLAN.replace("domains_file: domains.txt", "domains: [example.org]").replace(
        'parking: "10 parking.new.net."', 'parking: "10 20 parking.new.net."'
    )
    with pytest.raises(PlanError) as info:
        parse_plan(text, "p.yaml")
    assert [str(issue) for issue in info.value.issues] == [
        "p.yaml:6:12: MX state 'parking': expected 'HOST' or 'PREFERENCE HOST' for an MX record, "
        "got '10 20 parking.new.net.'"
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('""', "plan.yaml:3:15: domains_file must name a file (one domain per line)"),
        ("5", "plan.yaml:3:15: domains_file: expected text, got 5"),
        ("[a.example]", "plan.yaml:3:15: domains_file: expected text, got a list"),
        (".", "plan.yaml:3:15: cannot read domains file .: it is a directory"),
    ],
)
def test_domains_file_values_that_name_no_file(tmp_path: Path, value: str, message: str) -> None:
    path = write(tmp_path, "example.org\n", PLAN.replace("domains_file: domains.txt", f"domains_file: {value}"))
    assert problems(path) == [message]
