"""SSH to the plan's hosts: verified connections, streamed command runs, host-to-host transfers.

Typical use by the engine::

    async with HostConnections.for_plan(plan, base_dir, passphrase=prompt) as hosts:
        conn = await hosts.connect("old")
        result = await run_command(conn, "export-mail", host="old", sink=on_event, timeout=600)
        await transfer(hosts, HostPath("old", "/srv/a.tar"), HostPath("new", "/srv/a.tar"), sink=on_event)
"""

from __future__ import annotations

from cockpit.ssh.auth import PassphrasePrompt
from cockpit.ssh.command import Captured, CommandResult, run_captured, run_command
from cockpit.ssh.connections import HostConnections
from cockpit.ssh.errors import (
    AuthError,
    ChangedHostKeyError,
    CommandTimeoutError,
    ConnectError,
    ConnectionLostError,
    HostKeyError,
    SshError,
    TransferError,
    UnknownHostKeyError,
    UnknownPlanHostError,
)
from cockpit.ssh.events import Clock, EventSink, OutputLines, SshEvent, SystemClock, TransferProgress
from cockpit.ssh.transfer import TransferResult, transfer

__all__ = [
    "AuthError",
    "Captured",
    "ChangedHostKeyError",
    "Clock",
    "CommandResult",
    "CommandTimeoutError",
    "ConnectError",
    "ConnectionLostError",
    "EventSink",
    "HostConnections",
    "HostKeyError",
    "OutputLines",
    "PassphrasePrompt",
    "SshError",
    "SshEvent",
    "SystemClock",
    "TransferError",
    "TransferProgress",
    "TransferResult",
    "UnknownHostKeyError",
    "UnknownPlanHostError",
    "run_captured",
    "run_command",
    "transfer",
]
