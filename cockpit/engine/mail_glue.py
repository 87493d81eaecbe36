"""What the mail step kinds share: a plan store as the mail layer's StoreSpec, the mail layer's progress as
run events, and the files a pass leaves beside the journal for the next one (the previous pass's state)."""

from __future__ import annotations

import os
from pathlib import Path

from cockpit.engine.context import StepContext, StepFailed
from cockpit.engine.events import OutputLine, StepProgress, TransferProgress
from cockpit.mail import MailError, MailEvent, MailProgress, StoreSpec
from cockpit.plan import Plan
from cockpit.ssh import ConnectionLostError, OutputLines, SshError

PROGRESS_EVERY = 0.25
"""Seconds between two progress events a step publishes (the mail layer may report more often)."""


def store_spec(plan: Plan, name: str, base_dir: Path) -> StoreSpec:
    """The plan's store `name` for the mail layer; `users_file` read now (one user per line, # comments)."""
    store = plan.stores[name]
    users = store.users
    if store.users_file is not None:
        path = Path(store.users_file).expanduser()
        path = path if path.is_absolute() else base_dir / path
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise StepFailed(f"store {name}: cannot read users_file {path}: {exc.strerror}") from None
        users = tuple(line.split("#", 1)[0].strip() for line in text.splitlines() if line.split("#", 1)[0].strip())
    try:
        return StoreSpec(store.host, store.format, store.path, users)
    except ValueError as exc:
        raise StepFailed(f"store {name}: {exc}") from None


def one_domain(plan: Plan) -> str | None:
    """The domain that fills a destination `{domain}` the source path lacks: the plan's, when it has one."""
    return plan.domains[0] if len(plan.domains) == 1 else None


class MailSink:
    """Hands the mail layer's events to the run: text lines as output, progress as a bar and a detail line
    (at most a few times a second)."""

    def __init__(self, ctx: StepContext, host: str) -> None:
        self.ctx = ctx
        self.host = host
        self._last = 0.0

    def __call__(self, event: MailEvent) -> None:
        ctx = self.ctx
        if isinstance(event, OutputLines):
            for text in event.lines:
                ctx.publish(OutputLine(event.timestamp, ctx.step.id, self.host, event.stream, text))
            return
        if not isinstance(event, MailProgress):
            return
        final = event.messages_total and event.messages_done >= event.messages_total
        if event.timestamp - self._last < PROGRESS_EVERY and not final:
            return
        self._last = event.timestamp
        ctx.publish(StepProgress(event.timestamp, ctx.step.id, progress_text(event), event.messages_done,
                                 event.messages_total))  # fmt: skip
        if event.phase == "copy" and event.bytes_total:
            ctx.publish(TransferProgress(event.timestamp, ctx.step.id, event.bytes_done, event.bytes_total,
                                         event.rate, event.eta))  # fmt: skip


def progress_text(event: MailProgress) -> str:
    where = f" ({event.mailbox})" if event.mailbox else ""
    if event.phase == "inventory":
        return f"reading {event.store}: {event.messages_done:,} messages{where}"
    return f"copying to {event.store}: {event.messages_done:,} of {event.messages_total:,} messages{where}"


def mail_failure(exc: SshError, ctx: StepContext) -> StepFailed:
    """The step's one line for a mail error; a lost connection is forgotten so the next step opens a new one."""
    if isinstance(exc, ConnectionLostError) or not isinstance(exc, MailError):
        ctx.services.drop(exc.host)
    return StepFailed(str(exc))


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that a crash leaves the old or the new content, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    with part.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    part.replace(path)
