"""Secrets kept out of text: the forms a secret takes in URLs, log records of lexicon, requests and urllib3
while a call holds the secret, and the line an HTTP error becomes."""

from __future__ import annotations

import email.utils
import logging
from datetime import UTC, datetime, timedelta

import pytest
import requests

from cockpit.dns.lexicon_session import CallFailure, describe_failure
from cockpit.dns.secret_scrub import REDACTED, Scrubber, scrubbed_logs

TOKEN = "p@ss w/rd+1"


def test_a_secret_is_scrubbed_as_written_and_url_encoded() -> None:
    scrub = Scrubber([TOKEN])
    assert scrub(f"key={TOKEN}") == f"key={REDACTED}"
    assert scrub("GET /x?key=p%40ss%20w%2Frd%2B1") == f"GET /x?key={REDACTED}"
    assert scrub("GET /x?key=p%40ss+w%2Frd%2B1") == f"GET /x?key={REDACTED}"
    assert repr(scrub) == "Scrubber(4 forms)" and TOKEN not in repr(scrub)


def test_a_secret_url_is_scrubbed_by_its_parts() -> None:
    scrub = Scrubber(["https://user:hunter22@api.example/v1/tok-123?key=abc987"])
    assert scrub('"GET /v1/tok-123?key=abc987 HTTP/1.1" 200') == f'"GET {REDACTED}?{REDACTED} HTTP/1.1" 200'
    assert "hunter22" not in scrub("auth user:hunter22 failed")
    assert scrub("host api.example") == "host api.example"


def test_log_records_are_scrubbed_only_while_a_call_holds_the_secret(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    provider_log = logging.getLogger("lexicon._private.providers.example")
    with scrubbed_logs([TOKEN]):
        provider_log.debug("request: %s", {"token": TOKEN})
        logging.getLogger("urllib3.connectionpool").debug('"GET /zones?key=%s HTTP/1.1" 401', TOKEN)
        try:
            raise RuntimeError(f"failed with {TOKEN}")
        except RuntimeError:
            provider_log.exception("boom")
    assert TOKEN not in caplog.text
    assert caplog.text.count(REDACTED) == 3
    provider_log.debug("after: %s", "plain")
    assert "after: plain" in caplog.text


def _http_error(status: int, reason: str, body: bytes, url: str, headers: dict[str, str] | None = None) -> Exception:
    response = requests.Response()
    response.status_code, response.reason, response._content, response.url = status, reason, body, url
    response.headers.update(headers or {})
    return requests.HTTPError(f"{status} Client Error: {reason} for url: {url}", response=response)


def test_http_errors_become_a_line_without_the_url() -> None:
    scrub = Scrubber(["k3y-123456"])
    failure = describe_failure(
        _http_error(422, "Unprocessable Entity", b'{"error": "bad content k3y-123456"}', "http://h/?k=k3y-123456"),
        scrub,
    )
    assert failure == CallFailure("http", f"HTTP 422 Unprocessable Entity: bad content {REDACTED}", 422, None)
    limited = describe_failure(_http_error(429, "Too Many Requests", b"", "http://h/", {"Retry-After": "7"}), scrub)
    assert (limited.rate_limited, limited.retry_after) == (True, 7.0)
    when = email.utils.format_datetime(datetime.now(UTC) + timedelta(minutes=10), usegmt=True)
    dated = describe_failure(_http_error(429, "Too Many Requests", b"", "http://h/", {"Retry-After": when}), scrub)
    assert dated.retry_after is not None and 500 < dated.retry_after <= 600, "an HTTP date counts from now"
    denied = describe_failure(_http_error(401, "Unauthorized", b"Unauthorized", "http://h/"), scrub)
    assert (denied.kind, denied.reason) == ("credentials", "HTTP 401 Unauthorized")


def test_connection_errors_keep_only_the_reason() -> None:
    error = requests.ConnectionError(
        "HTTPConnectionPool(host='h', port=1): Max retries exceeded with url: /k3y-123456 (Caused by "
        "NewConnectionError('<urllib3.connection.HTTPConnection object at 0x7f>: Failed to establish a new "
        "connection: [Errno 111] Connection refused'))"
    )
    assert describe_failure(error, Scrubber(["k3y-123456"])) == CallFailure(
        "network", "cannot reach the API: connection refused"
    )
    other = describe_failure(ValueError("token k3y-123456 rejected"), Scrubber(["k3y-123456"]))
    assert other.reason == f"ValueError: token {REDACTED} rejected"
