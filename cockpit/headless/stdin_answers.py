"""Answers to the run's prompts typed on stdin, one line each, read without blocking the event loop.

Letters name the shared answers (see engine.prompts): y go, s skip (asks a reason), r retry or rerun, d done;
n stops the run here (the journal lets a later run resume).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable

from cockpit.engine.events import Asking, Event
from cockpit.engine.prompts import Answer, PromptKind, resolve
from cockpit.engine.run import PlanRun

LETTERS = {"y": "go", "s": "skip", "r": "retry", "d": "done"}
"""The letter typed for each word of the vocabulary; resolve() says what it means at the prompt."""
MENUS = {
    PromptKind.GATE: "[y]es / [n]o, stop here / [s]kip",
    PromptKind.CONFIRM: "[y]es, done / [n]o, stop here / [s]kip",
    PromptKind.FAILED: "[r]etry / [s]kip / [n]o, stop here",
    PromptKind.INTERRUPTED: "[r]erun / [d]one already / [s]kip / [n]o, stop here",
}
"""How each prompt's answers read on a terminal."""


class StdinAnswers:
    """Reads one line per prompt from stdin without blocking the event loop."""

    def __init__(self, run: PlanRun, write: Callable[[str], None]) -> None:
        self.run = run
        self.write = write
        self.reader: asyncio.StreamReader | None = None
        self.task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=64 * 1024)
        try:
            await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        except (ValueError, OSError):
            data = sys.stdin.read() if not sys.stdin.closed else ""
            reader.feed_data(data.encode())
            reader.feed_eof()
        self.reader = reader

    def __call__(self, event: Event) -> None:
        if isinstance(event, Asking) and (self.task is None or self.task.done()):
            self.task = asyncio.ensure_future(self._answer(event))

    async def _line(self, prompt: str) -> str | None:
        assert self.reader is not None
        self.write(prompt)
        try:
            data = await self.reader.readline()
        except (ValueError, OSError):
            return None
        return data.decode("utf-8", "replace").strip() if data else None

    async def _answer(self, asking: Asking) -> None:
        kind = PromptKind(asking.kind)
        while self.run.prompt is not None and self.run.prompt.step_id == asking.step_id:
            line = await self._line(f"[{asking.step_id}] {asking.question} — {MENUS[kind]}? ")
            if line is None:
                self.write("stdin closed: stopping (the journal lets you resume)")
                self.run.stop("stopped", 1)
                return
            choice = line[:1].lower()
            if choice == "n":
                self.run.stop("stopped", 1)
                return
            answer = resolve(kind, LETTERS.get(choice, ""))
            if answer is None:
                self.write(f"answer one of: {MENUS[kind]}")
                continue
            reason = ""
            if answer == Answer.SKIP:
                reason = await self._line("reason for skipping: ") or ""
                if not reason:
                    self.write("a skip needs a reason")
                    continue
            result = self.run.answer(answer, reason)
            if not result.ok:
                self.write(result.message)
            return
