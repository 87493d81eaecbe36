"""Provider and option names checked against dns-lexicon's own provider list and argparse options, with the
closest valid name; an editor is refused before any call when they are wrong."""

from __future__ import annotations

import pytest

from cockpit.dns.lexicon_editor import LexiconEditor
from cockpit.dns.lexicon_options import check_provider_options, credential_options, provider_options, providers
from cockpit.dns.mx_rrset import ProviderConfigError
from cockpit.plan.secret_values import SecretValue


def test_powerdns_options_come_from_lexicon() -> None:
    assert {"auth_token", "pdns_server", "pdns_server_id"} <= set(provider_options("powerdns"))
    assert check_provider_options("powerdns", ["auth_token", "pdns_server"]) == []


def test_unknown_provider_gets_the_closest_name() -> None:
    [problem] = check_provider_options("powerdsn", ["auth_token"])
    assert problem.option is None and problem.suggestion == "powerdns"
    assert problem.message == "unknown DNS provider 'powerdsn' (did you mean 'powerdns'?)"
    [far] = check_provider_options("zzzzzz", [])
    assert far.suggestion is None and far.message == "unknown DNS provider 'zzzzzz'"


def test_unknown_options_get_the_closest_name_or_the_list() -> None:
    problems = check_provider_options("powerdns", ["auth_tokn", "auth-token", "ttl", "colour"])
    assert [(p.option, p.suggestion) for p in problems] == [
        ("auth_tokn", "auth_token"),
        ("auth-token", "auth_token"),
        ("ttl", None),
        ("colour", None),
    ]
    assert problems[0].message == "unknown option 'auth_tokn' for provider powerdns (did you mean 'auth_token'?)"
    assert problems[2].message == "option 'ttl' is set by the MX change itself, not here"
    assert problems[3].message.startswith("unknown option 'colour' for provider powerdns (options: auth_token, ")


def test_a_provider_without_its_extra_packages_says_how_to_install_them() -> None:
    missing = [name for name, available in providers().items() if not available]
    if not missing:
        pytest.skip("every lexicon provider's extras are installed here")
    problems = check_provider_options(missing[0], [])
    assert problems[0].message.endswith(f"pip install 'dns-lexicon[{missing[0]}]'")


def test_credential_options_to_check() -> None:
    assert credential_options("powerdns", ["auth_token", "pdns_server"]) == ["auth_token"]
    assert credential_options("powerdns", ["pdns_server"]) == ["auth_token"]


def test_the_editor_refuses_bad_names_before_any_call() -> None:
    with pytest.raises(ProviderConfigError) as caught:
        LexiconEditor("powerdns", {"auth_tokn": SecretValue("s3cr3t-value", "test")})
    assert caught.value.changed is False
    assert "did you mean 'auth_token'" in caught.value.message and "s3cr3t-value" not in caught.value.message
    editor = LexiconEditor("powerdns", {"auth_token": SecretValue("s3cr3t-value", "test"), "pdns_server": "http://x"})
    assert repr(editor) == "LexiconEditor('powerdns', options=['auth_token', 'pdns_server'])"
    assert editor.label == "powerdns API (dns-lexicon)"
