"""The lab's MTAs: a real SMTP dialogue (aiosmtpd) on a loopback address, delivering into a MailStore.

Every message is delivered; only those with an `X-Lab-Id` header (the senders') are reported as accepted,
so the move's canaries land in the mailbox like any mail without counting as the lab's."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from cockpit.lab.mail_store import MailStore, lab_id_of

Accepted = Callable[[str, int], None]
"""Called with (MTA name, lab id) for every message accepted."""


class _Handler:
    def __init__(self, name: str, store: MailStore, accepted: Accepted | None) -> None:
        self.name = name
        self.store = store
        self.accepted = accepted

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        local, _, _ = address.partition("@")
        if not local or "/" in local or local.startswith("."):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        for rcpt in envelope.rcpt_tos:
            self.store.deliver(rcpt.partition("@")[0].lower(), data)
        lab_id = lab_id_of(data)
        if lab_id is not None and self.accepted is not None:
            self.accepted(self.name, lab_id)
        return "250 2.0.0 queued"


class LabMta:
    """An SMTP server that can be started and stopped during the demo (the new MTA starts late)."""

    def __init__(self, name: str, host: str, port: int, store: MailStore, accepted: Accepted | None = None) -> None:
        self.name = name
        self.host = host
        self.port = port
        self.store = store
        self._handler = _Handler(name, store, accepted)
        self._server: asyncio.AbstractServer | None = None

    @property
    def running(self) -> bool:
        return self._server is not None

    async def start(self, sock: socket.socket | None = None) -> None:
        """Listen on `host`:`port`, or on `sock` when given (a socket bound beforehand to hold the port)."""
        if self._server is not None:
            return
        loop = asyncio.get_running_loop()

        def protocol() -> Any:
            return SMTP(self._handler, hostname=f"{self.name}.lab", ident="mx-cockpit lab MTA", loop=loop)

        if sock is not None:
            self._server = await loop.create_server(protocol, sock=sock)
        else:
            self._server = await loop.create_server(protocol, self.host, self.port, reuse_address=True)
        if self.port == 0:
            self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is None:
            return
        server, self._server = self._server, None
        server.close()
        await server.wait_closed()
