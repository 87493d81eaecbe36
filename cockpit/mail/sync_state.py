"""The previous pass as a value: the engine keeps it (compressed, beside its journal) and hands it back.

It is only a cache of identities: every pass still lists both stores afresh, so a state that is stale, from
an interrupted pass, or missing costs time, never correctness.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from typing import Any

from cockpit.mail.inventory_model import FolderInventory, MailboxInventory, MboxFingerprint, Message, StoreInventory
from cockpit.mail.store_spec import MailboxRef, StoreSpec

VERSION = 1


def _spec_value(spec: StoreSpec) -> dict[str, Any]:
    return {
        "host": spec.host,
        "format": spec.format,
        "path": spec.path,
        "users": list(spec.users) if spec.users is not None else None,
    }


def _spec_from(value: dict[str, Any]) -> StoreSpec:
    users = value.get("users")
    return StoreSpec(value["host"], value["format"], value["path"], tuple(users) if users is not None else None)


def mailbox_value(box: MailboxInventory) -> dict[str, Any]:
    """One mailbox of an inventory as plain JSON values."""
    f = box.fingerprint
    return {
        "path": box.ref.path,
        "user": box.ref.user,
        "domain": box.ref.domain,
        "exists": box.exists,
        "fingerprint": [f.device, f.inode, f.end, f.sha256] if f is not None else None,
        "interrupted": box.interrupted_at,
        "folders": [
            {
                "name": folder.name,
                "messages": [[m.key, m.size, m.digest.hex(), m.message_id, m.flags, m.subdir] for m in folder.messages],
            }
            for folder in box.folders
        ],
    }


def inventory_value(inventory: StoreInventory) -> dict[str, Any]:
    """A store inventory as plain JSON values."""
    return {"spec": _spec_value(inventory.spec), "mailboxes": [mailbox_value(box) for box in inventory.mailboxes]}


def mailbox_json(box: MailboxInventory) -> str:
    """One mailbox as the state file holds it, for `state_bytes`."""
    return json.dumps(mailbox_value(box), separators=(",", ":"))


def state_bytes(source: tuple[StoreSpec, list[str]], dest: tuple[StoreSpec, list[str]]) -> bytes:
    """What `SyncState.to_bytes` writes, from each side's spec and its mailboxes already as JSON
    (`mailbox_json`): a caller that keeps many mailboxes and changes a few serialises only those."""

    def side(spec: StoreSpec, boxes: list[str]) -> str:
        return (
            '{"spec":'
            + json.dumps(_spec_value(spec), separators=(",", ":"))
            + ',"mailboxes":['
            + ",".join(boxes)
            + "]}"
        )

    text = f'{{"version":{VERSION},"source":{side(*source)},"dest":{side(*dest)}}}'
    return zlib.compress(text.encode("utf-8", "surrogatepass"), 6)


def inventory_from(value: dict[str, Any]) -> StoreInventory:
    """The inverse of `inventory_value`; raises ValueError (or KeyError, TypeError) on anything else."""
    boxes = []
    for box in value["mailboxes"]:
        fp = box.get("fingerprint")
        folders = tuple(
            FolderInventory(
                folder["name"],
                tuple(Message(k, int(s), bytes.fromhex(d), i, fl, sd) for k, s, d, i, fl, sd in folder["messages"]),
            )
            for folder in box["folders"]
        )
        boxes.append(
            MailboxInventory(
                MailboxRef(box["path"], box.get("user", ""), box.get("domain", "")),
                bool(box["exists"]),
                folders,
                MboxFingerprint(*fp) if fp else None,
                box.get("interrupted"),
            )
        )
    return StoreInventory(_spec_from(value["spec"]), tuple(boxes))


@dataclass(frozen=True)
class SyncState:
    """What the last completed pass saw on both sides (plus what it wrote into Maildirs)."""

    source: StoreInventory
    dest: StoreInventory

    def to_bytes(self) -> bytes:
        """Compressed JSON, for the engine to store."""
        value = {"version": VERSION, "source": inventory_value(self.source), "dest": inventory_value(self.dest)}
        return zlib.compress(json.dumps(value, separators=(",", ":")).encode("utf-8", "surrogatepass"), 6)

    @classmethod
    def from_bytes(cls, data: bytes) -> SyncState:
        """Raises ValueError when `data` is not a state this version wrote."""
        try:
            value = json.loads(zlib.decompress(data).decode("utf-8", "surrogatepass"))
            if value.get("version") != VERSION:
                raise ValueError(f"sync state version {value.get('version')!r}, expected {VERSION}")
            return cls(inventory_from(value["source"]), inventory_from(value["dest"]))
        except (zlib.error, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
            raise ValueError(f"not a sync state: {exc}") from None
