"""The `verify` step: fresh inventories of both sides (nothing from earlier passes is trusted), compared per
mailbox and folder, with a one-line verdict."""

from __future__ import annotations

from cockpit.mail.comparison import VerifyReport, compare_stores
from cockpit.mail.events import MailSink, ignore_mail_events
from cockpit.mail.folder_names import plain
from cockpit.mail.store_spec import StoreSpec
from cockpit.mail.two_sides import TwoSides
from cockpit.ssh import Clock, HostConnections, SystemClock


async def verify(
    connections: HostConnections,
    source: StoreSpec,
    dest: StoreSpec,
    *,
    sink: MailSink = ignore_mail_events,
    clock: Clock | None = None,
    source_name: str | None = None,
    dest_name: str | None = None,
    domain: str | None = None,
) -> VerifyReport:
    """Whether every message of `source` is on `dest` exactly as often; read-only on both hosts.

    The report's `verdict()` is the one line to show, `lines()` adds one line per folder that differs (the
    caller shows them: they are the cockpit's comparison, not a host's output).
    """
    clock = clock or SystemClock()
    names = (plain(source_name or source.describe()), plain(dest_name or dest.describe()))
    async with TwoSides(connections, source, dest, sink=sink, clock=clock, names=names, domain=domain) as sides:
        dst_inv = await sides.destination()
        src_inv = await sides.source()
    assert src_inv is not None
    return compare_stores(src_inv, dst_inv, source_name=names[0], dest_name=names[1])
