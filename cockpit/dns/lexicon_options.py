"""Which DNS providers dns-lexicon has and which options each takes, read from lexicon itself: its list of
provider modules and the argparse options each provider declares. `cockpit check` uses the problems to
give located errors with the closest valid name, before anything is sent anywhere.

lexicon exposes the provider list only from `lexicon._private.discovery` (its own client uses it too).
"""

from __future__ import annotations

import argparse
import difflib
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType

from lexicon._private.discovery import find_providers, load_provider_module

SET_BY_COCKPIT = frozenset(
    {"domain", "ttl", "priority", "name", "content", "type", "action", "identifier", "provider_name", "delegated"}
)
"""Lexicon's own record options: the MX change sets them, a plan must not."""

_CREDENTIAL = re.compile(r"auth|token|key|secret|pass|user|login|account")


@dataclass(frozen=True, slots=True)
class OptionProblem:
    """One thing wrong with a provider name or option name, in a sentence, with the closest valid name."""

    option: str | None
    """The option concerned; None when the provider name itself is the problem."""
    message: str
    suggestion: str | None = None


@functools.cache
def providers() -> dict[str, bool]:
    """Every provider lexicon has → whether its extra packages are installed."""
    return dict(find_providers())


@functools.cache
def _module(provider: str) -> ModuleType:
    return load_provider_module(provider)


@functools.cache
def provider_options(provider: str) -> tuple[str, ...]:
    """The option names (argparse destinations) the provider declares, as lexicon's configuration spells
    them (`auth_token`, `pdns_server`). KeyError for a provider lexicon does not have."""
    if provider not in providers():
        raise KeyError(provider)
    parser = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    _module(provider).Provider.configure_parser(parser)
    try:
        namespace, _ = parser.parse_known_args([])
    except (SystemExit, argparse.ArgumentError):  # a provider with a required option: none has one today
        raise KeyError(provider) from None
    return tuple(sorted(vars(namespace)))


def provider_class(provider: str) -> type:
    """The provider's class (built directly: lexicon's Client would guess the zone through DNS)."""
    cls = _module(provider).Provider
    assert isinstance(cls, type)
    return cls


def _closest(name: str, choices: Iterable[str]) -> str | None:
    options = list(choices)
    normal = name.strip().lower().replace("-", "_")
    if normal in options:
        return normal
    found = difflib.get_close_matches(normal, options, n=1, cutoff=0.6)
    return found[0] if found else None


def check_provider_options(provider: str, options: Iterable[str]) -> list[OptionProblem]:
    """Problems with a provider name and the option names given for it; empty when all is well."""
    known = providers()
    if provider not in known:
        suggestion = _closest(provider, known)
        hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
        return [OptionProblem(None, f"unknown DNS provider {provider!r}{hint}", suggestion)]
    problems: list[OptionProblem] = []
    if not known[provider]:
        problems.append(
            OptionProblem(
                None,
                f"DNS provider {provider!r} needs packages that are not installed: "
                f"pip install 'dns-lexicon[{provider}]'",
            )
        )
    valid = provider_options(provider)
    for option in options:
        if option in valid:
            continue
        if option in SET_BY_COCKPIT:
            problems.append(OptionProblem(option, f"option {option!r} is set by the MX change itself, not here"))
            continue
        suggestion = _closest(option, valid)
        hint = f" (did you mean {suggestion!r}?)" if suggestion else f" (options: {', '.join(valid) or 'none'})"
        problems.append(OptionProblem(option, f"unknown option {option!r} for provider {provider}{hint}", suggestion))
    return problems


def credential_options(provider: str, given: Iterable[str]) -> list[str]:
    """The options to check when the provider rejects the credentials: those given that look like
    credentials, else every credential-like option the provider has."""
    valid = provider_options(provider) if provider in providers() else ()
    named = [option for option in given if _CREDENTIAL.search(option)]
    return named or [option for option in valid if _CREDENTIAL.search(option)]
