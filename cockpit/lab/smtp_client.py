"""A small asyncio SMTP client for the lab's senders: EHLO, MAIL, RCPT, DATA, QUIT, with honest outcomes.

A refused connection, a timeout or a 4xx reply is temporary (the sender retries, as RFC 5321 asks); a 5xx
reply is permanent.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Delivery:
    ok: bool
    temporary: bool
    """For a failure: retry later (refused, timeout, 4xx) rather than bounce (5xx)."""
    detail: str


class _Reply(Exception):
    def __init__(self, code: int, text: str) -> None:
        super().__init__(f"{code} {text}")
        self.code = code


async def _read_reply(reader: asyncio.StreamReader) -> tuple[int, str]:
    lines = []
    while True:
        raw = await reader.readline()
        if not raw:
            raise ConnectionResetError("connection closed by the server")
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        lines.append(line[4:])
        if len(line) < 4 or line[3] != "-":
            try:
                return int(line[:3]), " ".join(lines)
            except ValueError:
                raise ConnectionResetError(f"malformed SMTP reply {line!r}") from None


async def _command(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, line: str, expect: int) -> None:
    writer.write(line.encode() + b"\r\n")
    await writer.drain()
    code, text = await _read_reply(reader)
    if code // 100 != expect:
        raise _Reply(code, text)


async def deliver(
    host: str, port: int, sender: str, recipient: str, message: bytes, *, helo: str = "sender.lab", timeout: float = 10
) -> Delivery:
    try:
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation that arrives just as
        # the delivery finishes, and a sender cancelled at shutdown would then run on.
        async with asyncio.timeout(timeout):
            return await _deliver(host, port, sender, recipient, message, helo)
    except TimeoutError:
        return Delivery(False, True, f"{host}:{port} timed out")
    except ConnectionRefusedError:
        return Delivery(False, True, f"{host}:{port} refused the connection")
    except _Reply as reply:
        return Delivery(False, reply.code // 100 == 4, str(reply))
    except OSError as exc:
        return Delivery(False, True, f"{host}:{port}: {exc.strerror or exc}")


async def _deliver(host: str, port: int, sender: str, recipient: str, message: bytes, helo: str) -> Delivery:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        code, text = await _read_reply(reader)
        if code // 100 != 2:
            raise _Reply(code, text)
        await _command(reader, writer, f"EHLO {helo}", 2)
        await _command(reader, writer, f"MAIL FROM:<{sender}>", 2)
        await _command(reader, writer, f"RCPT TO:<{recipient}>", 2)
        await _command(reader, writer, "DATA", 3)
        body = message.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        body = b"\r\n".join(b"." + line if line.startswith(b".") else line for line in body.split(b"\r\n"))
        writer.write(body + (b"" if body.endswith(b"\r\n") else b"\r\n") + b".\r\n")
        await writer.drain()
        code, text = await _read_reply(reader)
        if code // 100 != 2:
            raise _Reply(code, text)
        writer.write(b"QUIT\r\n")
        await writer.drain()
        return Delivery(True, False, f"{code} {text}")
    finally:
        writer.close()
        with contextlib.suppress(TimeoutError, OSError):
            await asyncio.wait_for(writer.wait_closed(), 2)
