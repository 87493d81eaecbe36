"""`inventory`: what a mail store holds, per mailbox and folder, read on its host and changing nothing. The
output shows a table; the journal keeps the per-mailbox summary; the full list (every message's identity,
size and flags) is kept beside the journal, compressed, for the report and later comparisons."""

from __future__ import annotations

import json
import zlib

from cockpit.base.units import format_size
from cockpit.engine.context import StepContext
from cockpit.engine.events import InventoryTaken
from cockpit.engine.kinds.base import KindOf
from cockpit.engine.mail_glue import MailSink, mail_failure, store_spec, write_atomically
from cockpit.mail import StoreInventory, inventory
from cockpit.mail.sync_state import inventory_value
from cockpit.plan import InventoryStep
from cockpit.ssh import SshError


class InventoryKind(KindOf[InventoryStep]):
    async def run(self, ctx: StepContext) -> str:
        step = self.step
        spec = store_spec(ctx.plan, step.store, ctx.base_dir)
        ctx.info(f"reading {step.store} on {spec.host}: {spec.describe()} (read-only)")
        try:
            found = await inventory(ctx.services.connections, spec, sink=MailSink(ctx, spec.host), clock=ctx.clock,
                                    name=step.store)  # fmt: skip
        except SshError as exc:
            raise mail_failure(exc, ctx) from None
        for line in inventory_table(found):
            ctx.info(line)
        rows = tuple((m.ref.name, len(m.folders), m.count, m.bytes) for m in found.mailboxes)
        ctx.publish(InventoryTaken(ctx.clock.now(), step.id, step.store, rows))
        kept = ctx.services.state_file(f"inventory-{step.store}.json.z")
        if kept is not None:
            write_atomically(kept, zlib.compress(json.dumps(inventory_value(found)).encode("utf-8", "surrogatepass")))
        return summary(step.store, found)


def summary(name: str, found: StoreInventory) -> str:
    mailboxes = len(found.mailboxes)
    return (
        f"{name}: {found.count:,} messages ({format_size(found.bytes)}) in {mailboxes:,} "
        f"mailbox{'' if mailboxes == 1 else 'es'}, {found.folder_count:,} folders"
    )


def inventory_table(found: StoreInventory) -> list[str]:
    """One line per mailbox and folder: messages and size, aligned."""
    rows = [("mailbox / folder", "messages", "size")]
    for mailbox in found.mailboxes:
        if not mailbox.exists:
            rows.append((mailbox.ref.name, "—", "no mailbox yet"))
            continue
        for folder in mailbox.folders:
            where = mailbox.ref.name + ("" if not folder.name else f" / {folder.label}")
            rows.append((where, f"{folder.count:,}", format_size(folder.bytes)))
    width = max(len(row[0]) for row in rows)
    return [f"{where:<{width}}  {count:>9}  {size:>10}" for where, count, size in rows]
