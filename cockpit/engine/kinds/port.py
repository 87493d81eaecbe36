"""`port`: a TCP check. `closed` must be refused: a refusal makes senders retry soon; a timeout (filtered)
makes them wait for their connect timeout and is reported as a failure with that explanation."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket

from cockpit.base.units import format_duration
from cockpit.engine.context import StepContext, StepFailed
from cockpit.engine.events import ListenerProven
from cockpit.engine.kinds.base import KindOf
from cockpit.plan import PortStep

CONNECT_TIMEOUT = 5.0
BANNER_TIMEOUT = 10.0
SMTP_PORTS = frozenset({25, 587, 2525})
"""Ports where `expect: open` also requires an SMTP greeting (220)."""


class PortKind(KindOf[PortStep]):
    async def run(self, ctx: StepContext) -> str:
        step = self.step
        where = f"{step.address} port {step.port}"
        smtp = step.expect == "open" and step.port in SMTP_PORTS
        outcome, banner = await probe(step.address, step.port, read_banner=smtp)
        ctx.info(f"{where}: {outcome}" + (f" — {banner}" if banner else ""))
        if step.expect == "closed":
            if outcome == "refused":
                return f"{where} refuses connections: senders will retry"
            if outcome == "filtered":
                raise StepFailed(
                    f"{where} is filtered (no answer in {format_duration(CONNECT_TIMEOUT)}), not refused: "
                    "senders would wait "
                    "for their connect timeout instead of retrying soon; make it refuse (e.g. REJECT, not DROP)"
                )
            if outcome == "open":
                raise StepFailed(f"{where} accepts connections: something listens there, so mail would be delivered")
            raise StepFailed(f"{where}: {outcome}")
        if outcome == "open":
            if step.port in SMTP_PORTS and not (banner or "").startswith("220"):
                raise StepFailed(f"{where} accepts connections but sent no SMTP greeting (got {banner or 'nothing'!r})")
            ctx.publish(ListenerProven(ctx.clock.now(), step.id, False, f"{where} is open"))
            return f"{where} is open" + (f": {banner}" if banner else "")
        raise StepFailed(f"{where} is {outcome}, expected open")


async def probe(address: str, port: int, *, read_banner: bool) -> tuple[str, str | None]:
    """`open`, `refused`, `filtered` or a network error text; with the first line the server sent."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(address, port), CONNECT_TIMEOUT)
    except TimeoutError:
        return "filtered", None
    except ConnectionRefusedError:
        return "refused", None
    except socket.gaierror as exc:
        return f"cannot resolve {address}: {exc.strerror}", None
    except OSError as exc:
        if exc.errno == errno.ECONNREFUSED:
            return "refused", None
        return f"unreachable ({exc.strerror or exc})", None
    banner: str | None = None
    try:
        if read_banner:
            try:
                line = await asyncio.wait_for(reader.readline(), BANNER_TIMEOUT)
                banner = line.decode("utf-8", "replace").strip()[:200]
                writer.write(b"QUIT\r\n")
                await asyncio.wait_for(writer.drain(), 2)
            except (TimeoutError, OSError):
                banner = banner or ""
    finally:
        writer.close()
        with contextlib.suppress(TimeoutError, OSError):
            await asyncio.wait_for(writer.wait_closed(), 2)
    return "open", banner
