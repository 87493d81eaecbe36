"""The blocking side of a lexicon provider: one provider instance for one zone, built directly with an
explicit domain (lexicon's Client would guess the zone through DNS and the public-suffix list).

Every call runs in a thread of its own (see blocking_call) and returns a CallResult, never raising: the
exceptions of `requests` carry URLs and the request with its headers, so they are turned into a scrubbed
line here and dropped, and no error object that crosses back to the event loop refers to them.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import requests
from lexicon.config import ConfigResolver
from lexicon.exceptions import AuthenticationError
from lexicon.interfaces import Provider

from cockpit.dns.lexicon_options import provider_class
from cockpit.dns.mx_rrset import ZoneMx, absolute_host
from cockpit.dns.secret_scrub import Scrubber, scrubbed_logs
from cockpit.plan.secret_values import SecretValue

T = TypeVar("T")

PREFERENCE_IN_CONTENT = frozenset({"powerdns", "desec"})
"""Providers whose MX content is `PREFERENCE HOST.` as in a zone file; the others take the host as the
content and the preference in lexicon's `priority` option (which is set for every provider)."""

_ERRNO = re.compile(r"\[Errno -?\d+\] ([^)'\"\]]+)")
_REASON_MAX = 240


@dataclass(frozen=True, slots=True)
class CallFailure:
    """Why a provider call failed, as one line that holds no secret."""

    kind: str
    """`http`, `credentials`, `network`, `config` or `other`."""
    reason: str
    status: int | None = None
    retry_after: float | None = None
    """Seconds the server asked to wait (Retry-After), when it did."""

    @property
    def rate_limited(self) -> bool:
        return self.status == 429


@dataclass(frozen=True, slots=True)
class CallResult(Generic[T]):
    value: T | None = None
    failure: CallFailure | None = None


@dataclass(frozen=True, slots=True)
class ListedMx:
    """An MX record as the provider listed it, with what it takes to delete exactly that record."""

    record: ZoneMx
    content: str
    identifier: str | None
    ttl: int | None


def _one_line(text: str, scrub: Scrubber) -> str:
    line = " ".join(scrub(text).split())
    return line if len(line) <= _REASON_MAX else line[: _REASON_MAX - 1] + "…"


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: a number of seconds or an HTTP date."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _body_hint(response: requests.Response, scrub: Scrubber) -> str:
    """The API's own words about the error: a JSON error/message field, or a short one-line body."""
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError):
        text = response.text.strip()
        return _one_line(text, scrub) if text and "\n" not in text and len(text) <= 200 else ""
    if isinstance(body, dict):
        for key in ("error", "message", "detail", "errors", "msg"):
            if body.get(key):
                return _one_line(str(body[key]), scrub)
    return ""


def describe_failure(exc: Exception, scrub: Scrubber) -> CallFailure:
    """A provider exception as one scrubbed line; the exception itself is not kept."""
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        response = exc.response
        status = response.status_code
        hint = _body_hint(response, scrub)
        if hint.lower() == (response.reason or "").lower():
            hint = ""
        reason = f"HTTP {status} {response.reason or ''}".strip() + (f": {hint}" if hint else "")
        kind = "credentials" if status in (401, 403) else "http"
        return CallFailure(kind, reason, status, _retry_after(response.headers.get("Retry-After")))
    if isinstance(exc, requests.Timeout):
        return CallFailure("network", "the API did not answer in time")
    if isinstance(exc, requests.ConnectionError):
        found = _ERRNO.search(str(exc))
        return CallFailure(
            "network", f"cannot reach the API: {found.group(1).strip().lower() if found else 'no connection'}"
        )
    if isinstance(exc, AuthenticationError):
        return CallFailure("credentials", _one_line(str(exc) or "authentication failed", scrub))
    return CallFailure("other", _one_line(f"{type(exc).__name__}: {exc}", scrub))


def zone_mx_of(record: Mapping[str, Any]) -> ZoneMx | None:
    """An MX record from a provider listing: `PREF HOST` content, or the host with a priority field."""
    content = str(record.get("content") or "").strip()
    match = re.fullmatch(r"(\d{1,5})\s+(\S+)", content)
    preference: int | None
    if match:
        preference, host = int(match.group(1)), match.group(2)
    else:
        host = content
        preference = _priority(record)
    try:
        return ZoneMx(preference, absolute_host(host)) if host else None
    except ValueError:
        return None


def _priority(record: Mapping[str, Any]) -> int | None:
    options = record.get("options")
    nested = options.get("mx", {}).get("priority") if isinstance(options, dict) else None
    for value in (record.get("priority"), record.get("prio"), nested):
        if value is not None and str(value).strip().isdigit():
            return int(str(value).strip())
    return None


def mx_content(provider: str, preference: int, host: str) -> str:
    """The content lexicon's provider expects for one MX record."""
    if provider in PREFERENCE_IN_CONTENT:
        return f"{preference} {host}"
    return host.rstrip(".")


class LexiconSession:
    """One provider instance for one zone; the options' secrets are revealed only when it is built."""

    def __init__(self, provider: str, zone: str, options: Mapping[str, str | SecretValue], ttl: int | None) -> None:
        self.provider = provider
        self.zone = zone
        self._options = dict(options)
        self._ttl = ttl
        self._config: dict[str, Any] = {}
        self._instance: Provider | None = None
        self._scrub = Scrubber(())
        self._secrets: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"LexiconSession({self.provider!r}, zone={self.zone!r}, options={sorted(self._options)})"

    def _guard(self, call: Callable[[], T]) -> CallResult[T]:
        with scrubbed_logs(self._secrets):
            try:
                return CallResult(call())
            except Exception as exc:  # every provider error becomes a scrubbed line; nothing else leaves
                try:
                    failure = describe_failure(exc, self._scrub)
                except Exception:
                    failure = CallFailure("other", type(exc).__name__)
        return CallResult(failure=failure)

    def open(self) -> CallResult[None]:
        """Build the provider and sign in (lexicon's authenticate: it also finds the zone)."""
        if self._instance is not None:
            return self._guard(self._instance.authenticate)
        self._secrets = tuple(v.reveal() for v in self._options.values() if isinstance(v, SecretValue))
        self._scrub = Scrubber(self._secrets)
        self._config = {
            "provider_name": self.provider,
            "domain": self.zone,
            self.provider: {k: v.reveal() if isinstance(v, SecretValue) else v for k, v in self._options.items()},
        }
        if self._ttl is not None:
            self._config["ttl"] = self._ttl

        def build_and_sign_in() -> None:
            resolver = ConfigResolver()  # type: ignore[no-untyped-call]  # lexicon leaves __init__ unannotated
            instance = provider_class(self.provider)(resolver.with_dict(self._config))
            assert isinstance(instance, Provider)
            instance.authenticate()
            self._instance = instance

        return self._guard(build_and_sign_in)

    def _provider(self) -> Provider:
        assert self._instance is not None, "open() first"
        return self._instance

    def list_mx(self, domain: str) -> CallResult[tuple[ListedMx, ...]]:
        """The MX records of `domain` as the API lists them now."""

        def listing() -> tuple[ListedMx, ...]:
            found: list[ListedMx] = []
            for raw in self._provider().list_records(rtype="MX", name=domain):
                if str(raw.get("type", "MX")).upper() != "MX" or not self._same_name(str(raw.get("name", "")), domain):
                    continue
                record = zone_mx_of(raw)
                if record is None:
                    continue
                ttl = raw.get("ttl")
                identifier = raw.get("id")
                found.append(
                    ListedMx(
                        record,
                        str(raw.get("content", "")),
                        str(identifier) if identifier is not None else None,
                        int(ttl) if isinstance(ttl, int | str) and str(ttl).isdigit() else None,
                    )
                )
            return tuple(found)

        return self._guard(listing)

    def _same_name(self, name: str, domain: str) -> bool:
        name = name.rstrip(".").lower()
        if name in ("", "@"):
            name = self.zone
        elif name != self.zone and not name.endswith("." + self.zone):
            name = f"{name}.{self.zone}"
        return name == domain

    def delete(self, domain: str, listed: ListedMx) -> CallResult[bool]:
        """Delete exactly that record (by lexicon's identifier when the provider gave one)."""
        return self._guard(
            lambda: self._provider().delete_record(
                identifier=listed.identifier, rtype="MX", name=domain, content=listed.content
            )
        )

    def add(self, domain: str, preference: int, host: str) -> CallResult[bool]:
        """Add one MX record with the session's TTL."""

        def create() -> bool:
            self._config["priority"] = str(preference)
            return self._provider().create_record("MX", domain, mx_content(self.provider, preference, host))

        return self._guard(create)

    def close(self) -> None:
        """Let the provider clean up (some log out), then forget the revealed options."""
        if self._instance is not None:
            self._guard(self._instance.cleanup)
        self._instance = None
        self._config.clear()
        self._secrets = ()
