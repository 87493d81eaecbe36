"""TSIG keys for RFC 2136 updates, read from a plan secret and kept out of every message and repr.

Accepted forms: the file `tsig-keygen` writes (`key "NAME" { algorithm hmac-sha256; secret "…"; };`),
or a one-line `[ALGORITHM:]NAME:SECRET` as `dig -y` takes it (handy in an environment variable).
dnspython's own key object shows its secret in repr(), so one is built only at the moment of signing.
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path

import dns.exception
import dns.name
import dns.tsig

from cockpit.plan.models import Secret
from cockpit.plan.secret_values import Redacted, SecretError, read_secret

ALGORITHMS = {
    "hmac-md5": dns.tsig.HMAC_MD5,
    "hmac-md5.sig-alg.reg.int": dns.tsig.HMAC_MD5,
    "hmac-sha1": dns.tsig.HMAC_SHA1,
    "hmac-sha224": dns.tsig.HMAC_SHA224,
    "hmac-sha256": dns.tsig.HMAC_SHA256,
    "hmac-sha384": dns.tsig.HMAC_SHA384,
    "hmac-sha512": dns.tsig.HMAC_SHA512,
}

_COMMENTS = re.compile(r'"[^"]*"|/\*.*?\*/|//[^\n]*|#[^\n]*', re.DOTALL)
"""Quoted strings first, so that a comment marker inside a secret (base64 may hold "//") is left alone."""
_KEY = re.compile(r'key\s+("([^"]+)"|([^\s{]+))\s*\{(.*?)\}\s*;', re.DOTALL)
_ALGORITHM = re.compile(r'algorithm\s+"?([A-Za-z0-9.-]+)"?\s*;')
_SECRET = re.compile(r'secret\s+"([^"]*)"\s*;')


class TsigKeyError(Exception):
    """A TSIG key could not be loaded; the message says where from and why, never the secret."""


class TsigKey(Redacted):
    """A key name, an algorithm and a secret that never shows itself."""

    __slots__ = ("_secret", "algorithm", "name", "origin")

    def __init__(self, name: str, algorithm: str, secret: bytes, origin: str) -> None:
        self.name = name
        """Absolute key name, as the server's configuration names it."""
        self.algorithm = algorithm
        self._secret = secret
        self.origin = origin
        """Where it was read from, safe to show."""

    def dnspython_key(self) -> dns.tsig.Key:
        """The key dnspython signs with; do not keep it, log it, or put it in an exception."""
        return dns.tsig.Key(dns.name.from_text(self.name), self._secret, ALGORITHMS[self.algorithm])

    def __repr__(self) -> str:
        return f"TsigKey(name={self.name!r}, algorithm={self.algorithm!r}, secret=<redacted>, from {self.origin})"


def parse_tsig_key(text: str, origin: str) -> TsigKey:
    """A key from `tsig-keygen` output or `[ALGORITHM:]NAME:SECRET`; `origin` names the source in errors.

    No error quotes any part of the text: a key written with its parts swapped puts the secret where a
    name or an algorithm is expected, so errors say which part is wrong and where the key came from.
    """
    stripped = _COMMENTS.sub(lambda m: m.group(0) if m.group(0).startswith('"') else "", text).strip()
    if not stripped:
        raise TsigKeyError(f"no TSIG key in {origin} (it is empty)")
    if stripped.startswith("key"):
        return _parse_bind(stripped, origin)
    line = text.strip()  # a one-liner is taken as it is: its base64 secret may hold "//"
    if "\n" not in line and line.count(":") in (1, 2):
        parts = line.split(":")
        algorithm, name, secret = ("hmac-sha256", *parts) if len(parts) == 2 else parts
        return _build(name, algorithm, secret, origin, ONE_LINE)
    raise TsigKeyError(
        f'no TSIG key in {origin}: expected a tsig-keygen file (key "NAME" {{ ... }};) or ALGORITHM:NAME:SECRET'
    )


ONE_LINE = "in ALGORITHM:NAME:SECRET"
KEY_FILE = "in the key statement"


def _parse_bind(text: str, origin: str) -> TsigKey:
    keys = list(_KEY.finditer(text))
    if not keys:
        raise TsigKeyError(f'{origin}: cannot read the key statement (expected key "NAME" {{ ... }};)')
    if len(keys) > 1:
        raise TsigKeyError(f"{origin} holds {len(keys)} keys; put the one for this update in its own file")
    match = keys[0]
    name = match.group(2) or match.group(3)
    body = match.group(4)
    algorithm = _ALGORITHM.search(body)
    secret = _SECRET.search(body)
    if algorithm is None:
        raise TsigKeyError(f"{origin}: the key statement has no algorithm")
    if secret is None:
        raise TsigKeyError(f"{origin}: the key statement has no secret")
    return _build(name, algorithm.group(1), secret.group(1), origin, KEY_FILE)


_ALGORITHM_LIKE = re.compile(r"hmac-[a-z0-9-]{1,24}(\.[a-z0-9.-]{1,40})?")
"""What may be quoted back as a mistyped algorithm: nothing a base64 secret could be."""


def looks_like_secret(name: str) -> bool:
    """A key name that is more likely a base64 secret put in the wrong place (name and secret swapped):
    base64 padding or its `+`/`/` characters, or a long mixed-case run of letters and digits (names have dots
    and dashes, and are rarely mixed case)."""
    text = name.strip().rstrip(".")
    if any(c in text for c in "=+/"):
        return True
    if len(text) < 20 or re.fullmatch(r"[A-Za-z0-9]+", text) is None:
        return False
    mixed_case = text.lower() != text and text.upper() != text
    return mixed_case and (any(c.isdigit() for c in text) or len(text) >= 32)


def _build(name: str, algorithm: str, secret: str, origin: str, where: str) -> TsigKey:
    algorithm = algorithm.strip().lower().rstrip(".")
    if algorithm not in ALGORITHMS:
        known = ", ".join(a for a in ALGORITHMS if "." not in a)
        shown = f" {algorithm!r}" if _ALGORITHM_LIKE.fullmatch(algorithm) else ""
        raise TsigKeyError(f"{origin}: unknown TSIG algorithm{shown} {where} (use one of {known})")
    if looks_like_secret(name):
        raise TsigKeyError(
            f"{origin}: the key name {where} looks like a base64 secret — are the name and the secret swapped? "
            "(not shown)"
        )
    try:
        absolute = dns.name.from_text(name.strip()).to_text()
    except dns.exception.DNSException:
        raise TsigKeyError(f"{origin}: the key name {where} is not a valid DNS name (not shown)") from None
    try:
        raw = base64.b64decode(secret.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise TsigKeyError(f"{origin}: the secret {where} is not valid base64 (not shown)") from None
    if not raw:
        raise TsigKeyError(f"{origin}: the secret {where} is empty")
    return TsigKey(absolute, algorithm, raw, origin)


def load_tsig_key(secret: Secret, base_dir: Path | None = None) -> TsigKey:
    """The TSIG key a plan secret points to (a file or an environment variable)."""
    try:
        value = read_secret(secret, base_dir)
    except SecretError as exc:
        raise TsigKeyError(str(exc)) from None
    return parse_tsig_key(value.reveal(), value.origin)
