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


async def read_until(ws: aiohttp.ClientWebSocketResponse, text: bytes) -> None:
    """Read the terminal's frames until `text` was drawn (within 60 s); the socket ending first fails."""
    received = b""
    async with asyncio.timeout(60):
        while text not in received:
            message = await ws.receive()
            if message.type == aiohttp.WSMsgType.BINARY:
                received += message.data
            elif message.type != aiohttp.WSMsgType.TEXT:
                raise AssertionError(f"the websocket ended: {message.type}")


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
            await read_until(ws, b"Engine end-to-end")
    finally:
        server.signal(15)
        assert await server.wait(30) == 0, server.out + server.err


def self_signed(folder: Path, *, passphrase: bytes | None = None) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by its own key (PEM files), as `openssl req -x509` makes one."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cockpit test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption))
    return cert_path, key_path


async def test_serve_over_https_with_a_certificate(method_lab: MethodLab, tmp_path: Path) -> None:
    """With --tls-cert and --tls-key the page and the websocket are https and wss; a client that trusts the
    certificate reads the plan's name through them, and plain http to the same port gets no page."""
    import ssl

    plan = method_lab.write_plan(three_phases(method_lab))
    cert, key = self_signed(tmp_path)
    port = free_port()
    server = await Child.start("serve", str(plan), "--port", str(port), "--tls-cert", str(cert), "--tls-key",
                               str(key), cwd=plan.parent)  # fmt: skip
    try:
        line = await server.wait_line(lambda text: "serving the observer" in text, 30)
        assert line is not None and f"https://127.0.0.1:{port}/" in line, server.out + server.err
        trusted = ssl.create_default_context(cafile=str(cert))
        url = f"https://127.0.0.1:{port}/"
        async with aiohttp.ClientSession() as http:
            async with http.get(url, ssl=trusted) as response:
                page = await response.text()
            assert response.status == 200 and f"wss://127.0.0.1:{port}/ws" in page
            async with http.ws_connect(f"wss://127.0.0.1:{port}/ws?width=100&height=30", ssl=trusted) as ws:
                await read_until(ws, b"Engine end-to-end")
            try:
                async with http.get(f"http://127.0.0.1:{port}/") as plain:
                    assert plain.status != 200, "plain http got the page"
            except aiohttp.ClientError:
                pass  # the TLS server closed the connection on a request that was not TLS
    finally:
        server.signal(2)
        assert await server.wait(30) == 0, server.out + server.err


async def test_serve_refuses_unusable_tls_files_in_one_line(method_lab: MethodLab, tmp_path: Path) -> None:
    plan = method_lab.write_plan(three_phases(method_lab))
    cert, key = self_signed(tmp_path)
    (tmp_path / "locked").mkdir()
    locked_cert, locked_key = self_signed(tmp_path / "locked", passphrase=b"s3cret-passphrase")
    (tmp_path / "other").mkdir()
    other_cert, _ = self_signed(tmp_path / "other")  # another pair: its certificate, not our key
    cases = {
        "only the certificate": (["--tls-cert", str(cert)], "needs both --tls-cert and --tls-key"),
        "missing key": (["--tls-cert", str(cert), "--tls-key", str(tmp_path / "nope.pem")], "nope.pem: no such file"),
        "encrypted key": (["--tls-cert", str(locked_cert), "--tls-key", str(locked_key)], "the key is encrypted"),
        "a certificate as key": (["--tls-cert", str(cert), "--tls-key", str(cert)], "not a PEM certificate and its"),
        "key of another certificate": (["--tls-cert", str(other_cert), "--tls-key", str(key)], "matching key"),
    }
    for name, (args, expected) in cases.items():
        result = await cockpit("serve", str(plan), "--port", str(free_port()), *args, cwd=plan.parent)
        assert result.code == 2 and expected in result.stderr, (name, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and result.stdout == "", (name, result.stderr)
        assert "s3cret" not in result.stderr and "Traceback" not in result.stderr
