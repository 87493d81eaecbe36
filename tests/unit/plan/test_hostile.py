"""Hostile or broken files: each gets one located line quickly, never a traceback or a hang."""

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit.plan import PlanError, PlanFileError, load_plan, parse_plan


def all_errors(content: bytes | str) -> list[str]:
    with pytest.raises(PlanError) as info:
        parse_plan(content, "h.yaml")
    return [str(issue) for issue in info.value.issues]


def one_error(content: bytes | str) -> str:
    with pytest.raises(PlanError) as info:
        parse_plan(content, "h.yaml")
    assert len(info.value.issues) == 1
    return str(info.value.issues[0])


@pytest.mark.parametrize("content", ["", "\n\n", "# only a comment\n", "---\n"])
def test_empty(content: str) -> None:
    assert one_error(content) == "h.yaml:1:1: the file is empty; a plan starts with 'version: 1'"


def test_top_level_list() -> None:
    assert (
        one_error("- version: 1\n")
        == "h.yaml:1:1: a plan is a mapping of keys (version, name, domains, ...), not a list"
    )


def test_top_level_scalar() -> None:
    assert one_error("hello\n").endswith("not a single value")


def test_invalid_utf8_is_located() -> None:
    assert one_error(b"version: 1\nname: caf\xc3\xa9 \xff\n") == (
        "h.yaml:2:12: invalid UTF-8 (byte 0xff); save the plan as UTF-8"
    )


def test_utf8_bom_is_accepted() -> None:
    assert all_errors("\ufeffversion: 1\n")[0] == "h.yaml:1:1: missing required key 'domains' (or 'domains_file')"


def test_tab_indent() -> None:
    assert one_error("version: 1\nmx:\n\told: a.b.\n") == (
        "h.yaml:3:1: a tab character is used for indentation; YAML needs spaces"
    )


def test_control_character() -> None:
    assert one_error("version: 1\nname: a\x00b\n") == "h.yaml:2:8: character '\\x00' is not allowed in YAML"


def test_billion_laughs() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, name = chr(96 + i), chr(97 + i)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    message = one_error("\n".join(lines) + "\n")
    assert "aliases expand to too many values (an alias bomb?); this is not a plan" in message


def test_recursive_alias() -> None:
    assert "h.yaml:2:4: an alias refers to the collection that contains it" in all_errors("version: 1\nx: &x [*x]\n")


def test_deep_nesting() -> None:
    message = one_error("version: " + "[" * 10_000 + "]" * 10_000 + "\n")
    assert message.startswith("h.yaml:1:")
    assert "nesting is deeper than 64 levels; this is not a plan" in message


def test_deep_block_nesting() -> None:
    text = "".join("  " * i + f"k{i}:\n" for i in range(200)) + "  " * 200 + "v: 1\n"
    assert one_error(text) == "h.yaml:65:129: nesting is deeper than 64 levels; this is not a plan"


def test_fifty_megabytes_is_refused_before_parsing(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as handle:
        handle.write(b"version: 1\nx: [")
        handle.write(b"1234567890," * 5_000_000)
        handle.write(b"0]\n")
    with pytest.raises(PlanError) as info:
        load_plan(big)
    assert [str(i) for i in info.value.issues] == [f"{big}:1:1: the file is 55.0 MB; a plan is at most 1.0 MB"]


def test_two_documents() -> None:
    assert one_error("version: 1\n---\nname: x\n") == "h.yaml:2:1: the file holds more than one YAML document ('---')"


def test_syntax_error_is_located() -> None:
    assert one_error("version: 1\nname: [unclosed\n").startswith("h.yaml:3:1: YAML syntax: ")


def test_unsupported_tag() -> None:
    assert "h.yaml:2:7: YAML tag tag:yaml.org,2002:python/object:os.system is not supported in a plan" in all_errors(
        "version: 1\nname: !!python/object:os.system x\n"
    )


def test_non_scalar_key() -> None:
    assert "h.yaml:2:1: a key must be a plain name, not a list or mapping" in all_errors("version: 1\n[a, b]: c\n")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PlanFileError, match=r"nope\.yaml: no such file$"):
        load_plan(tmp_path / "nope.yaml")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(PlanFileError, match="is a directory, not a plan file"):
        load_plan(tmp_path)
