"""Keeping provider credentials out of text: messages built from HTTP errors, and log records.

`requests` puts the URL in its exceptions (some APIs take the key in the query string), providers log
responses, and urllib3 logs request lines at DEBUG. Whatever text could carry a secret goes through a
Scrubber; while a provider call runs, a filter on lexicon's, requests' and urllib3's loggers scrubs their
records too.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

REDACTED = "<redacted>"
LOGGER_PREFIXES = ("lexicon", "requests", "urllib3")


def secret_forms(secrets: Iterable[str]) -> frozenset[str]:
    """Each secret as written and URL-encoded; a secret URL also by its parts that travel apart from the
    whole (the path and query in request lines, the password in userinfo)."""
    forms: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        parts = [secret]
        url = urlsplit(secret.strip())
        if url.scheme and url.netloc:
            parts += [url.path, url.query, url.password or "", url.netloc.rpartition("@")[0]]
            parts += [value for _, value in parse_qsl(url.query)]
        for part in parts:
            if len(part) > 1 and part != "/":
                forms.update({part, quote(part, safe=""), quote_plus(part), quote(part)})
    return frozenset(forms)


class Scrubber:
    """Replaces every form of the given secrets in a text with <redacted>."""

    __slots__ = ("_forms",)

    def __init__(self, secrets: Iterable[str]) -> None:
        self._forms = sorted(secret_forms(secrets), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, REDACTED)
        return text

    def __bool__(self) -> bool:
        return bool(self._forms)

    def __repr__(self) -> str:
        return f"Scrubber({len(self._forms)} forms)"


class _SecretLogFilter(logging.Filter):
    """Scrubs the message (and exception text) of every record while any provider call holds secrets."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._active: Counter[str] = Counter()
        self._scrubber = Scrubber(())

    def hold(self, secrets: Iterable[str]) -> None:
        with self._lock:
            self._active.update(secret_forms(secrets))
            self._scrubber = Scrubber(self._active)

    def release(self, secrets: Iterable[str]) -> None:
        with self._lock:
            self._active.subtract(secret_forms(secrets))
            self._active = +self._active
            self._scrubber = Scrubber(self._active)

    def filter(self, record: logging.LogRecord) -> bool:
        scrub = self._scrubber
        if not scrub:
            return True
        text = record.getMessage()
        clean = scrub(text)
        if clean != text:
            record.msg, record.args = clean, None
        if record.exc_info:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True


_FILTER = _SecretLogFilter()


def _cover_loggers() -> None:
    """Attach the filter to every logger of lexicon, requests and urllib3 that exists now (a logger's
    filters see only its own records, so each one needs it)."""
    names = [name for name in logging.root.manager.loggerDict if name.split(".")[0] in LOGGER_PREFIXES]
    for name in (*LOGGER_PREFIXES, *names):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


@contextmanager
def scrubbed_logs(secrets: Iterable[str]) -> Iterator[None]:
    """While inside, log records of lexicon, requests and urllib3 never show these secrets."""
    held = [secret for secret in secrets if secret]
    _cover_loggers()
    _FILTER.hold(held)
    try:
        yield
    finally:
        _FILTER.release(held)
