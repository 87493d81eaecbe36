"""`cockpit serve`: the observer in a browser. Loopback answers anyone on this machine; any other address needs
a token, and every request without it is refused. A real headless Chromium (under CI=true a missing one fails
the test) opens the page, and the plan's name reaches it through the page's terminal websocket."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import aiohttp

from tests.browser import chromium
from tests.integration.engine.child import Child
from tests.integration.engine.conftest import MethodLab, cockpit, three_phases

TOKEN = "a-token-of-some-length-42"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def serving(plan: Path, *args: str) -> tuple[Child, str]:
    server = await Child.start("serve", str(plan), *args, cwd=plan.parent)
    line = await server.wait_line(lambda text: "serving the observer" in text, 30)
    assert line is not None, server.out + server.err
    url = next(word for word in line.split() if word.startswith("http://"))
    return server, url


async def get(url: str, *, cookies: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
    async with aiohttp.ClientSession(cookies=cookies) as http, http.get(url, allow_redirects=False) as response:
        return response.status, await response.text(), {c.key: c.value for c in response.cookies.values()}


async def test_serve_on_loopback_opens_in_a_real_browser_showing_the_plan(
    method_lab: MethodLab, tmp_path: Path
) -> None:
    plan = method_lab.write_plan(three_phases(method_lab))
    run = await cockpit("run", str(plan), "--headless", "--yes", cwd=method_lab.root)
    assert run.code == 0, run.stdout + run.stderr
    server, url = await serving(plan, "--port", str(free_port()))
    try:
        status, page, _ = await get(url)
        assert status == 200 and "/ws" in page
        assert (await get(url + "static/js/textual.js"))[0] == 200
        async with chromium(tmp_path / "profile") as browser:
            tab = await browser.open(url)
            await browser.wait_for_text("Engine end-to-end")
            # The screen reaches the page in several frames: the header's count may come after the name.
            shown = await browser.wait_for_text("16/16")
            assert "observing" in shown and "Engine end-to-end" in shown
            assert await browser.evaluate(tab, "document.querySelector('.xterm-screen') !== null") is True
        assert server.process.returncode is None
    finally:
        server.signal(2)
        assert await server.wait(30) == 0, server.out + server.err
    assert "stopped serving" in server.out


async def test_serve_elsewhere_needs_a_token_and_refuses_every_request_without_it(method_lab: MethodLab) -> None:
    plan = method_lab.write_plan(three_phases(method_lab))
    refused = await cockpit("serve", str(plan), "--host", "0.0.0.0", "--port", str(free_port()), cwd=plan.parent)
    assert refused.code == 2 and "not a loopback address" in refused.stderr, refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and refused.stdout == ""
    short = await cockpit("serve", str(plan), "--token", "Xyzzy-42", cwd=plan.parent)
    assert short.code == 2 and "too short" in short.stderr and "Xyzzy" not in short.stderr, short.stderr

    server, url = await serving(plan, "--host", "0.0.0.0", "--port", str(free_port()), "--token", TOKEN)
    try:
        assert url.startswith("http://0.0.0.0:") and TOKEN not in server.out
        local = url.replace("0.0.0.0", "127.0.0.1")
        for path in ("", "ws", "static/js/textual.js", "download/x"):
            status, _, _ = await get(local + path)
            assert status == 401, (path, status)
            status, _, _ = await get(local + path + "?token=wrong-token-of-some-length")
            assert status == 403, (path, status)
        status, page, cookies = await get(local + f"?token={TOKEN}")
        assert status == 200 and "/ws" in page
        assert cookies == {"cockpit_serve_token": TOKEN}
        status, _, _ = await get(local + "static/js/textual.js", cookies=cookies)
        assert status == 200
        # The websocket with the cookie the page got: the observer starts and draws the plan's name.
        async with (
            aiohttp.ClientSession(cookies=cookies) as http,
            http.ws_connect(local + "ws?width=100&height=30") as ws,
        ):
            received = b""
            async with asyncio.timeout(60):
                while b"Engine end-to-end" not in received:
                    message = await ws.receive()
                    if message.type == aiohttp.WSMsgType.BINARY:
                        received += message.data
                    elif message.type != aiohttp.WSMsgType.TEXT:
                        raise AssertionError(f"the websocket ended: {message.type}")
    finally:
        server.signal(15)
        assert await server.wait(30) == 0, server.out + server.err
