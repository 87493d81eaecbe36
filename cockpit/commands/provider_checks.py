"""The plan check only dns-lexicon can do: is each `providers:` entry a provider lexicon has, with options it
takes? Problems come back as plan locations, so `cockpit check` and `cockpit run` report them like any other
(`PLAN:LINE:COL: ...`, with the closest valid name)."""

from __future__ import annotations

from typing import Any

from cockpit.plan.located import Path


def provider_problems(data: dict[str, Any]) -> list[tuple[Path, str]]:
    providers = data.get("providers")
    if not isinstance(providers, dict) or not providers:
        return []
    from cockpit.dns.lexicon_options import check_provider_options  # lexicon is slow to import: only when needed

    found: list[tuple[Path, str]] = []
    for name, provider in providers.items():
        if not isinstance(provider, dict) or not isinstance(provider.get("lexicon"), str):
            continue
        options = [key for key in provider if isinstance(key, str) and key != "lexicon"]
        for problem in check_provider_options(provider["lexicon"], options):
            where: Path = ("providers", name, problem.option) if problem.option else ("providers", name, "lexicon")
            found.append((where, f"providers.{name}: {problem.message}"))
    return found


PLAN_CHECKS = (provider_problems,)
"""What every command that loads a plan checks beyond the plan layer."""
