"""The SMTP side of the canary steps, from the cockpit's own machine: does an MX address refuse connections
(what makes senders retry soon), and does a real message get through one (EHLO, STARTTLS when offered, MAIL,
RCPT, DATA) — each reply kept for the operator."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import ssl
import uuid
from email.utils import formatdate

import aiosmtplib

from cockpit.base.safe_text import visible

CANARY_HEADER = "X-Cockpit-Canary"
BANNER_WAIT = 5.0


async def refusal(address: str, port: int, timeout: float) -> tuple[str, str]:
    """(refused | accepted | filtered | unreachable, detail): `filtered` when nothing answers in `timeout`."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(address, port), timeout)
    except TimeoutError:
        return "filtered", ""
    except ConnectionRefusedError:
        return "refused", ""
    except OSError as exc:
        if exc.errno == errno.ECONNREFUSED:
            return "refused", ""
        return "unreachable", exc.strerror or type(exc).__name__
    banner = ""
    try:
        line = await asyncio.wait_for(reader.readline(), BANNER_WAIT)
        banner = visible(line.decode("utf-8", "replace").strip()[:200])
    except (TimeoutError, OSError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(TimeoutError, OSError):
            await asyncio.wait_for(writer.wait_closed(), 2)
    return "accepted", banner


def canary_token() -> str:
    return f"cockpit-{uuid.uuid4().hex}"


def canary_message(token: str, sender: str, recipient: str, domain: str) -> bytes:
    """A small message carrying the token in its own header and in the Message-ID."""
    lines = [
        f"From: mx-cockpit canary <{sender}>",
        f"To: <{recipient}>",
        f"Subject: mx-cockpit canary {token}",
        f"Date: {formatdate(localtime=True)}",
        f"Message-ID: <{token}@{domain}>",
        f"{CANARY_HEADER}: {token}",
        "",
        "This message checks that mail reaches the new mailbox after an MX change; it may be deleted.",
        "",
    ]
    return "\r\n".join(lines).encode()


async def deliver(
    address: str, port: int, *, helo: str, sender: str, recipient: str, message: bytes, timeout: float
) -> tuple[bool, list[str]]:
    """(delivered, every reply) of one SMTP dialogue; STARTTLS when the server offers it (its certificate is
    not checked: this tests the path mail takes, not the certificate)."""
    said: list[str] = []

    def note(reply: aiosmtplib.SMTPResponse) -> int:
        said.append(visible(f"{reply.code} {reply.message}".replace("\n", " ")))
        return reply.code

    tls = ssl.create_default_context()
    tls.check_hostname = False
    tls.verify_mode = ssl.CERT_NONE
    client = aiosmtplib.SMTP(hostname=address, port=port, local_hostname=helo, timeout=timeout, start_tls=False,
                             tls_context=tls)  # fmt: skip
    try:
        note(await client.connect())
        note(await client.ehlo())
        if client.supports_extension("starttls"):
            note(await client.starttls())
            note(await client.ehlo())
        ok = (
            note(await client.mail(sender)) == 250
            and note(await client.rcpt(recipient)) in (250, 251)
            and note(await client.data(message)) == 250
        )
        with contextlib.suppress(aiosmtplib.SMTPException, OSError):
            await client.quit()
        return ok, said
    except aiosmtplib.SMTPResponseException as exc:
        said.append(visible(f"{exc.code} {exc.message}"))
    except (aiosmtplib.SMTPException, OSError, socket.gaierror) as exc:
        said.append(visible(f"{type(exc).__name__}: {exc}"))
    finally:
        client.close()
    return False, said
