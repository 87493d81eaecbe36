"""A TSIG key written wrongly never has its secret quoted back: every malformed form names the part and the
source, and nothing of the text that could be the secret."""

from __future__ import annotations

import base64

import pytest

from cockpit.dns import TsigKeyError
from cockpit.dns.tsig_key import looks_like_secret, parse_tsig_key

SECRET = "c2VjcmV0LXNlY3JldC1zZWNyZXQ="
SHA512_SECRET = base64.b64encode(bytes(range(7, 71))).decode()  # 64 bytes: 88 characters, as tsig-keygen -a hmac-sha512
UNPADDED = base64.b64encode(bytes(range(100, 130))).decode()  # 30 bytes: no padding
assert len(SHA512_SECRET) == 88 and not UNPADDED.endswith("=")

MALFORMED = [
    f"hmac-sha256:{SECRET}:demo-update",  # name and secret swapped
    f"{SECRET}:demo-update",  # SECRET:NAME
    f"hmac-sha512:{SHA512_SECRET}:update-key",
    f"{SHA512_SECRET}:update-key",
    f"hmac-sha256:{UNPADDED}:demo-update",
    f"{SECRET}:hmac-sha256:demo-update",  # secret where the algorithm goes
    f"demo-update:{SECRET}:hmac-sha256",
    f"hmac-sha256:demo-update:{SECRET}!",  # a broken secret
    f'key "{SECRET}" {{ algorithm hmac-sha256; secret "demo-update"; }};',
    f'key "demo" {{ algorithm {SECRET}; secret "{SECRET}"; }};',
]


def _fragments(secret: str) -> list[str]:
    """Every 8-character piece of the secret: no part of it may show."""
    return [secret[i : i + 8] for i in range(0, len(secret) - 7)]


@pytest.mark.parametrize("text", MALFORMED)
def test_a_malformed_key_names_the_part_and_the_source_and_never_quotes_the_secret(text: str) -> None:
    with pytest.raises(TsigKeyError) as caught:
        parse_tsig_key(text, "environment variable TSIGX")
    message = str(caught.value)
    assert message.startswith("environment variable TSIGX")
    for secret in (SECRET, SHA512_SECRET, UNPADDED):
        if secret in text:
            for piece in _fragments(secret):
                assert piece not in message, message


def test_the_swapped_form_says_what_is_wrong() -> None:
    with pytest.raises(TsigKeyError, match="key name in ALGORITHM:NAME:SECRET looks like a base64 secret"):
        parse_tsig_key(f"hmac-sha256:{SECRET}:demo-update", "environment variable TSIGX")
    with pytest.raises(TsigKeyError, match="unknown TSIG algorithm in ALGORITHM:NAME:SECRET"):
        parse_tsig_key(f"{SECRET}:hmac-sha256:demo-update", "environment variable TSIGX")


def test_a_mistyped_algorithm_is_still_quoted() -> None:
    with pytest.raises(TsigKeyError, match="unknown TSIG algorithm 'hmac-sha265'"):
        parse_tsig_key(f"hmac-sha265:demo-update:{SECRET}", "file k.key")


@pytest.mark.parametrize(
    "name", ["demo-update", "cockpit-key.", "tsig.example.com", "update", "transferkeyforexamplecom"]
)
def test_ordinary_key_names_are_not_taken_for_secrets(name: str) -> None:
    assert not looks_like_secret(name)
    assert parse_tsig_key(f"{name}:{SECRET}", "file k.key").name.rstrip(".") == name.rstrip(".")


@pytest.mark.parametrize("secret", [SECRET, SHA512_SECRET, UNPADDED])
def test_base64_secrets_look_like_secrets(secret: str) -> None:
    assert looks_like_secret(secret)
