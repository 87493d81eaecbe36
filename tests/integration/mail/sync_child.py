"""One sync in a process of its own, printing its progress, so that a test can SIGKILL it at any point.

Usage: python sync_child.py CONFIG_JSON (hosts as plan entries, source and destination store specs).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from cockpit.mail import MailEvent, MailProgress, StoreSpec, sync, sync_progress
from cockpit.plan import Host
from cockpit.ssh import HostConnections


async def run(config: dict[str, Any]) -> None:
    # Progress on every acknowledgement rather than every quarter second: the test's kill points are message
    # counts, and a fast machine copies thousands of messages in a quarter second.
    sync_progress.PROGRESS_EVERY = 0.0
    hosts = {name: Host.model_validate(entry) for name, entry in config["hosts"].items()}
    source = StoreSpec(**config["source"])
    dest = StoreSpec(**config["dest"])

    def sink(event: MailEvent) -> None:
        if isinstance(event, MailProgress) and event.phase == "copy":
            sys.stdout.write(f"copied {event.messages_done}\n")
            sys.stdout.flush()

    async with HostConnections(hosts, base_dir=Path(config["base"])) as pool:
        sys.stdout.write("started\n")
        sys.stdout.flush()
        result = await sync(pool, source, dest, sink=sink)
        sys.stdout.write(f"done {result.messages_copied}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(run(json.loads(sys.argv[1])))
