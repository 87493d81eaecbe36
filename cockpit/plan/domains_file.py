"""`domains_file:` — a plan's domains read from a file of their own, one per line (thousands of them).

The file sits beside the plan (a relative path is taken from the plan's folder). Blank lines and `#` comments
are skipped. A bad line is reported as `FILE:LINE:1: message`, so an editor jumps to it; a file that cannot be
read, or lists no domain, is reported at the `domains_file` key of the plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cockpit.base.units import format_size
from cockpit.plan.fields import domain_name
from cockpit.plan.issues import Mark, PlanIssue
from cockpit.plan.located import LocatedData

KEY = "domains_file"
MAX_BYTES = 16_000_000
"""A domain per line: 16 MB is hundreds of thousands of domains."""
MAX_REPORTED = 50
"""Problems listed one by one; the rest are counted on one line."""


@dataclass
class DomainsFile:
    """What expanding `domains_file` found: problems in the plan, problems in the file itself."""

    in_plan: list[tuple[Mark, str]] = field(default_factory=list)
    in_file: list[PlanIssue] = field(default_factory=list)


def expand_domains_file(located: LocatedData, base_dir: Path, source: str) -> DomainsFile:
    """Replace `domains_file: F` in the data by `domains: [...]` read from F (the key stays, for the record)."""
    found = DomainsFile()
    data = located.data
    if not isinstance(data, dict) or KEY not in data:
        return found
    value = data[KEY]
    mark = located.where((KEY,))
    if not isinstance(value, str):
        located.rejected.add(("domains",))
        return found  # the model says what is wrong with the value itself
    if not value.strip():
        found.in_plan.append((mark, "domains_file must name a file (one domain per line)"))
        located.rejected.add(("domains",))
        return found
    if "domains" in data:
        found.in_plan.append((located.where((KEY,), key=True), "give 'domains' or 'domains_file', not both"))
        located.rejected.add((KEY,))
        return found
    located.rejected.add(("domains",))
    path = Path(value.strip()).expanduser()
    full = path if path.is_absolute() else base_dir / path
    shown = str(path if path.is_absolute() or source.startswith("<") else Path(source).parent / path)
    try:
        with full.open("rb") as handle:
            content = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        reason = "no such file" if isinstance(exc, FileNotFoundError) else (exc.strerror or str(exc)).lower()
        if isinstance(exc, IsADirectoryError):
            reason = "it is a directory"
        found.in_plan.append((mark, f"cannot read domains file {value}: {reason}"))
        return found
    if len(content) > MAX_BYTES:
        found.in_plan.append((mark, f"domains file {value} is larger than {format_size(MAX_BYTES)}"))
        return found
    domains, problems = read_domains(content)
    for line, message in problems[:MAX_REPORTED]:
        found.in_file.append(PlanIssue(shown, Mark(line, 1), message))
    if len(problems) > MAX_REPORTED:
        rest = len(problems) - MAX_REPORTED
        found.in_file.append(PlanIssue(shown, Mark(problems[MAX_REPORTED][0], 1), f"and {rest} more problems"))
    if not problems and not domains:
        found.in_plan.append((mark, f"domains file {value} lists no domain (one per line, '#' starts a comment)"))
    if domains and not problems:
        data["domains"] = domains
    return found


def read_domains(content: bytes) -> tuple[list[str], list[tuple[int, str]]]:
    """The domains of a file's content in order, and (line, message) for each bad line."""
    domains: list[str] = []
    problems: list[tuple[int, str]] = []
    first_seen: dict[str, int] = {}
    for number, raw in enumerate(content.split(b"\n"), start=1):
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            problems.append((number, f"invalid UTF-8 (byte 0x{raw[exc.start]:02x}); save the file as UTF-8"))
            continue
        text = line.partition("#")[0].strip()
        if not text:
            continue
        try:
            domain = domain_name(text)
        except ValueError as exc:
            problems.append((number, str(exc)))
            continue
        if domain in first_seen:
            problems.append((number, f"domain '{domain}' is listed twice (first at line {first_seen[domain]})"))
            continue
        first_seen[domain] = number
        domains.append(domain)
    return domains, problems
