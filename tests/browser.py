"""A real headless Chromium driven over the DevTools protocol: open a page, evaluate script in it, and read the
websocket frames it receives (a terminal page draws its text on a canvas, so the text the page shows is what
its websocket brought)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

from tests.support import require

ESCAPES = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]")


class Browser:
    def __init__(self, process: asyncio.subprocess.Process, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.process = process
        self.ws = ws
        self._ids = itertools.count(1)
        self._calls: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.frames: list[bytes] = []
        """Payloads of the websocket frames the page received."""
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            if "id" in data and data["id"] in self._calls:
                self._calls.pop(data["id"]).set_result(data)
            elif data.get("method") == "Network.webSocketFrameReceived":
                response = data["params"]["response"]
                payload = response["payloadData"]
                self.frames.append(base64.b64decode(payload) if response["opcode"] == 2 else payload.encode())

    async def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> Any:
        number = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._calls[number] = future
        message: dict[str, Any] = {"id": number, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        await self.ws.send_str(json.dumps(message))
        answer = await asyncio.wait_for(future, 30)
        if "error" in answer:
            raise AssertionError(f"{method}: {answer['error']}")
        return answer.get("result", {})

    async def open(self, url: str) -> str:
        """A new tab showing `url`, its websocket frames recorded; returns the tab's session id."""
        target = await self.call("Target.createTarget", {"url": "about:blank"})
        attached = await self.call("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
        session = str(attached["sessionId"])
        await self.call("Network.enable", {}, session)
        await self.call("Page.enable", {}, session)
        await self.call("Page.navigate", {"url": url}, session)
        return session

    async def evaluate(self, session: str, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)
        return result.get("result", {}).get("value")

    def terminal_text(self) -> str:
        """What the terminal websocket brought, without its escape sequences."""
        return ESCAPES.sub(b"", b"".join(self.frames)).decode("utf-8", "replace")

    async def wait_for_text(self, text: str, seconds: float = 60.0) -> str:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while loop.time() < deadline:
            shown = self.terminal_text()
            if text in shown:
                return shown
            await asyncio.sleep(0.3)
        raise AssertionError(f"{text!r} never reached the page; it received:\n{self.terminal_text()[-3000:]}")


@contextlib.asynccontextmanager
async def chromium(profile: Path) -> AsyncIterator[Browser]:
    program = require(shutil.which("chromium") or shutil.which("chromium-browser"), "Chromium")
    process = await asyncio.create_subprocess_exec(
        program, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
        "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    address = None
    try:
        async with asyncio.timeout(60):
            while address is None:
                line = await process.stderr.readline()
                if not line:
                    raise AssertionError("Chromium ended before it listened for DevTools")
                found = re.search(rb"DevTools listening on (ws://\S+)", line)
                address = found.group(1).decode() if found else None
        drain = asyncio.ensure_future(_discard(process.stderr))  # a full pipe would stall the browser
        async with aiohttp.ClientSession() as http, http.ws_connect(address, max_msg_size=0) as ws:
            browser = Browser(process, ws)
            try:
                yield browser
            finally:
                browser._reader.cancel()
                drain.cancel()
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def _discard(stream: asyncio.StreamReader) -> None:
    while await stream.read(65536):
        pass
