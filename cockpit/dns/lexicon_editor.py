"""The MX RRset editor for zones kept at a DNS provider, through dns-lexicon: sign in, list, add the state's
records the zone lacks, delete the others, list again. Every call runs off the event loop, the whole change within
one deadline, and HTTP 429 is retried after the wait the server asks for (each wait reported).

When a call fails after something was already changed, the error says what the zone holds now, read back
through the API (or, when that fails too, followed call by call). Cancelling stops before the next call;
a call already sent completes or fails on its own in its thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TypeVar, cast

from cockpit.base.clock import Clock, SystemClock
from cockpit.base.units import format_duration
from cockpit.dns.blocking_call import run_blocking
from cockpit.dns.lexicon_options import check_provider_options, credential_options
from cockpit.dns.lexicon_session import CallFailure, CallResult, LexiconSession, ListedMx
from cockpit.dns.mx_call_order import Delete, mx_calls
from cockpit.dns.mx_rrset import (
    MxChange,
    MxChangeError,
    MxChangeTimeout,
    MxRrset,
    MxRrsetEditor,
    PartialMxChange,
    ProviderConfigError,
    ProviderCredentialError,
    ProviderRateLimited,
    ZoneMx,
    mx_text,
    normal_request,
)
from cockpit.plan.secret_values import SecretValue

T = TypeVar("T")

DEFAULT_TIMEOUT = 60.0
RETRIES_429 = 5
FIRST_BACKOFF = 1.0
"""Without a Retry-After header, the waits after HTTP 429 are 1, 2, 4, 8, 16 s."""
LONGEST_RETRY_AFTER = 300.0
READ_BACK_GRACE = 10.0
"""After a partial change, reading the zone back may take this long even past the change's deadline."""


@dataclass(frozen=True, slots=True)
class ProviderWait:
    """A pause after HTTP 429 before trying a call again, reported for the output pane."""

    provider: str
    operation: str
    attempt: int
    """The attempt that will follow the wait (2 for the first retry)."""
    attempts: int
    seconds: float
    asked: bool
    """The server gave the wait in a Retry-After header (otherwise it is our backoff)."""

    def __str__(self) -> str:
        why = "as its Retry-After asks" if self.asked else "backing off"
        return (
            f"{self.provider}: rate limited (HTTP 429) while {self.operation}; waiting {self.seconds:g} s ({why}), "
            f"then attempt {self.attempt} of {self.attempts}"
        )


WaitListener = Callable[[ProviderWait], None]


class _CallFailed(Exception):
    """One call failed for good (after any retries); carries the failure to the change's bookkeeping."""

    def __init__(self, operation: str, failure: CallFailure | None, timed_out: bool = False) -> None:
        super().__init__(operation)
        self.operation = operation
        self.failure = failure
        self.timed_out = timed_out


class LexiconEditor:
    """Changes MX RRsets through one DNS provider's API with dns-lexicon.

    `options` are lexicon's own option names for the provider (`auth_token`, `pdns_server`); a value that
    is a SecretValue is revealed only inside the call's thread, and never appears in a message, a repr or
    a log record. ProviderConfigError at once for an unknown provider or option."""

    def __init__(
        self,
        provider: str,
        options: Mapping[str, str | SecretValue],
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = RETRIES_429,
        on_wait: WaitListener | None = None,
        clock: Clock | None = None,
    ) -> None:
        problems = check_provider_options(provider, options)
        if problems:
            raise ProviderConfigError("; ".join(problem.message for problem in problems), changed=False)
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.provider = provider
        self._options = dict(options)
        self.timeout = timeout
        self.retries = retries
        self.on_wait = on_wait
        self.clock: Clock = clock or SystemClock()

    @property
    def label(self) -> str:
        return f"{self.provider} API (dns-lexicon)"

    def __repr__(self) -> str:
        return f"LexiconEditor({self.provider!r}, options={sorted(self._options)})"

    @property
    def option_names(self) -> tuple[str, ...]:
        return tuple(self._options)

    def session(self, zone: str, ttl: int | None) -> LexiconSession:
        """A fresh provider session for one zone (the secrets stay unrevealed until it signs in)."""
        return LexiconSession(self.provider, zone, self._options, ttl)

    async def list_mx(self, zone: str, domain: str | None = None) -> MxRrset:
        """The MX RRset as the API lists it; changes nothing (for `cockpit check --online`)."""
        zone_name = zone.rstrip(".").lower()
        domain_name = (domain or zone).rstrip(".").lower()
        change = _Change(self, zone_name, domain_name, None)
        try:
            outcome = await _attempt(change.read())
        finally:
            change.close()
        if isinstance(outcome, _CallFailed):
            raise change.error(outcome)  # raised outside any handler: no chained context to show
        return MxRrset(zone_name, domain_name, tuple(m.record for m in outcome), _ttl_of(outcome), self.label)

    async def replace_mx(
        self, zone: str, records: Sequence[tuple[int, str]], ttl: int, domain: str | None = None
    ) -> MxChange:
        """Delete the MX records of `domain`, add `records` with `ttl`, and return what the API lists after."""
        zone_name, domain_name, wanted = normal_request(zone, records, ttl, domain)
        change = _Change(self, zone_name, domain_name, ttl)
        error: MxChangeError | None = None
        try:
            outcome = await _attempt(self._replace(change, wanted))
            if isinstance(outcome, _CallFailed):
                error = await change.failed(outcome)
        finally:
            change.close()
        if error is not None:
            raise error
        assert not isinstance(outcome, _CallFailed)
        held = tuple(m.record for m in outcome)
        read_ttl = _ttl_of(outcome)
        if not _same(held, wanted):
            raise PartialMxChange(
                f"{self.provider}: the calls went through, but the MX of {domain_name} now reads "
                f"{mx_text(held)}, not {mx_text(ZoneMx(p, h) for p, h in wanted)}",
                changed=True,
                holds=held,
            )
        message = f"{self.label}: MX of {domain_name} {mx_text(change.before)} → {mx_text(held)} (TTL {ttl})"
        if read_ttl is not None and read_ttl != ttl:
            message += f"; the provider keeps TTL {read_ttl}"
        if change.gap is not None:
            message += (
                f"; the zone had no MX for {format_duration(change.gap)} between the calls (a new TTL, or a new "
                "preference for a host already there, replaces the records)"
            )
        return MxChange(zone_name, domain_name, change.before, held, read_ttl, self.label, message)

    @staticmethod
    async def _replace(change: _Change, wanted: Sequence[tuple[int, str]]) -> tuple[ListedMx, ...]:
        """The calls of a change in the order `mx_calls` gives; `change` keeps track of what went through, and
        of how long the zone held no MX between two calls (`change.gap`)."""
        domain = change.domain
        before = await change.read()
        change.before = tuple(m.record for m in before)
        live, emptied = len(before), None
        for call in mx_calls(before, wanted, change.ttl):
            if isinstance(call, Delete):
                record = call.listed.record
                await change.call(f"deleting MX {record}", partial(change.session.delete, domain, call.listed))
                change.deleted.append(record)
                live -= 1
                if live == 0:
                    emptied = change.clock.monotonic()
                continue
            record = ZoneMx(call.preference, call.host)
            await change.call(f"adding MX {record}", partial(change.session.add, domain, call.preference, call.host))
            change.added.append(record)
            live += 1
            if emptied is not None:
                change.gap, emptied = max(change.gap or 0.0, change.clock.monotonic() - emptied), None
        return await change.call("reading the MX back", partial(change.session.list_mx, domain))


async def _attempt(work: Awaitable[T]) -> T | _CallFailed:
    """The result of `work`, or the call that failed for good (returned, to be reported without chaining)."""
    try:
        return await work
    except _CallFailed as failed:
        return failed


def _ttl_of(listed: Sequence[ListedMx]) -> int | None:
    ttls = [m.ttl for m in listed if m.ttl is not None]
    return min(ttls) if ttls else None


def _same(held: Sequence[ZoneMx], wanted: Sequence[tuple[int, str]]) -> bool:
    return len(held) == len(wanted) and all(any(r.matches(p, h) for r in held) for p, h in wanted)


class _Change:
    """The bookkeeping of one list or change: the session, the deadline, and what went through so far."""

    def __init__(self, editor: LexiconEditor, zone: str, domain: str, ttl: int | None) -> None:
        self.editor = editor
        self.provider = editor.provider
        self.domain = domain
        self.ttl = ttl
        self.clock = editor.clock
        self.gap: float | None = None
        """The longest time the zone held no MX during the change: from a delete that emptied it to the next add."""
        self.session = editor.session(zone, ttl)
        self.deadline = asyncio.get_running_loop().time() + editor.timeout
        self.opened = False
        self.before: tuple[ZoneMx, ...] = ()
        self.deleted: list[ZoneMx] = []
        self.added: list[ZoneMx] = []

    def remaining(self) -> float:
        return self.deadline - asyncio.get_running_loop().time()

    async def read(self) -> tuple[ListedMx, ...]:
        await self.call("signing in", self.session.open)
        self.opened = True
        return await self.call(f"reading the MX of {self.domain}", lambda: self.session.list_mx(self.domain))

    async def call(self, operation: str, call: Callable[[], CallResult[T]]) -> T:
        """One provider call in its thread within the deadline; HTTP 429 retried after the asked wait."""
        attempts = 1 + self.editor.retries
        for attempt in range(1, attempts + 1):
            remaining = self.remaining()
            if remaining <= 0:
                raise _CallFailed(operation, None, timed_out=True)
            try:
                async with asyncio.timeout(remaining):
                    result = await run_blocking(call, name=f"lexicon {self.provider}: {operation}")
            except TimeoutError:
                raise _CallFailed(operation, None, timed_out=True) from None
            if result.failure is None:
                return cast(T, result.value)
            failure = result.failure
            if not failure.rate_limited:
                raise _CallFailed(operation, failure)
            if attempt == attempts:
                raise _CallFailed(operation, _amended(failure, f"still after {attempts} attempts"))
            asked = failure.retry_after is not None
            wait = failure.retry_after if failure.retry_after is not None else FIRST_BACKOFF * 2 ** (attempt - 1)
            if wait > LONGEST_RETRY_AFTER:
                too_long = (
                    f"the API asks to wait {format_duration(wait)}, "
                    f"longer than the {format_duration(LONGEST_RETRY_AFTER)} a change waits"
                )
                raise _CallFailed(operation, _amended(failure, too_long))
            if wait >= self.remaining():
                left = (
                    f"the API asks to wait {format_duration(wait)}, "
                    f"more than the {format_duration(max(0.0, self.remaining()))} left"
                )
                raise _CallFailed(operation, _amended(failure, left))
            if self.editor.on_wait is not None:
                self.editor.on_wait(ProviderWait(self.provider, operation, attempt + 1, attempts, wait, asked))
            await self.editor.clock.sleep(wait)
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Let the session clean up (some providers log out) in a daemon thread; nobody waits for it."""
        if self.opened:
            threading.Thread(target=self.session.close, name=f"lexicon {self.provider}: cleanup", daemon=True).start()

    @property
    def changed(self) -> bool:
        return bool(self.deleted or self.added)

    def error(self, failed: _CallFailed, holds: tuple[ZoneMx, ...] | None = None, note: str = "") -> MxChangeError:
        """The error for a failure before anything changed (or, with `holds`, after)."""
        failure = failed.failure
        if failed.timed_out:
            outcome = (
                "the outcome of that call is unknown" if failed.operation.startswith(("deleting", "adding")) else ""
            )
            text = f"{self.provider}: no answer from the API within {self.editor.timeout:g} s while {failed.operation}"
            unknown = bool(outcome) or self.changed
            return MxChangeTimeout(
                _join(text, outcome, self._progress(holds, note) if unknown else "nothing was changed"),
                changed=None if unknown else False,
                holds=holds,
            )
        assert failure is not None
        if self.changed:
            return PartialMxChange(
                _join(
                    f"{self.provider}: {self._done()} went through, then {failed.operation} failed: {failure.reason}",
                    self._progress(holds, note),
                ),
                changed=True,
                holds=holds,
            )
        if failure.kind == "credentials":
            check = ", ".join(credential_options(self.provider, self.editor.option_names)) or "the credentials"
            return ProviderCredentialError(
                f"{self.provider} rejected the credentials ({failure.reason}) while {failed.operation}: check "
                f"{check}, and that they may edit zone {self.session.zone}; nothing was changed",
                changed=False,
            )
        if failure.rate_limited:
            return ProviderRateLimited(
                f"{self.provider}: rate limited while {failed.operation}: {failure.reason}; nothing was changed",
                changed=False,
            )
        hint = ""
        if failure.status == 404 and failed.operation == "signing in":
            hint = f" (the API does not know zone {self.session.zone}: check the zone and the provider's options)"
        return MxChangeError(
            f"{self.provider}: {failed.operation} failed: {failure.reason}{hint}; nothing was changed", changed=False
        )

    async def failed(self, failed: _CallFailed) -> MxChangeError:
        """The error for a failed change; after a partial change, the zone is read back to say what it holds."""
        if not self.changed or failed.timed_out:
            return self.error(failed)
        loop = asyncio.get_running_loop()
        self.deadline = max(self.deadline, loop.time() + min(READ_BACK_GRACE, self.editor.timeout))
        try:
            listed = await self.call("reading the MX back after the failure", lambda: self.session.list_mx(self.domain))
        except _CallFailed as again:
            reason = again.failure.reason if again.failure else "no answer in time"
            return self.error(failed, self._followed(), f"as followed call by call; reading it back failed: {reason}")
        return self.error(failed, tuple(m.record for m in listed), "read back through the API")

    def _followed(self) -> tuple[ZoneMx, ...]:
        left = [r for r in self.before if r not in self.deleted]
        return (*left, *self.added)

    def _done(self) -> str:
        parts = []
        if self.added:
            parts.append(f"adding MX {mx_text(self.added)}")
        if self.deleted:
            parts.append(f"deleting MX {mx_text(self.deleted)}")
        return " and ".join(parts)

    def _progress(self, holds: tuple[ZoneMx, ...] | None, note: str) -> str:
        if holds is None:
            return f"before it, {self._done() or 'nothing'} went through; what {self.domain} holds now is unknown"
        return f"{self.domain} now holds {mx_text(holds)}" + (f" ({note})" if note else "")


def _amended(failure: CallFailure, note: str) -> CallFailure:
    return CallFailure(failure.kind, f"{failure.reason}; {note}", failure.status)


def _join(*parts: str) -> str:
    return "; ".join(part for part in parts if part)


def _is_an_editor(editor: LexiconEditor) -> MxRrsetEditor:
    """Never called: mypy checks here that LexiconEditor implements the MxRrsetEditor protocol."""
    return editor
