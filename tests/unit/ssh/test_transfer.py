"""Host-to-host transfers between two in-process SSH hosts: byte-identical, verified, never half-written."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cockpit.lab.ssh_host import LabSshHost
from cockpit.plan import Host, HostPath
from cockpit.ssh import CommandTimeoutError, HostConnections, SshEvent, TransferError, TransferProgress, transfer


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def tree(root: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


async def test_a_file_arrives_byte_identical_with_progress(
    hosts: HostConnections, lab: LabSshHost, lab_new: LabSshHost
) -> None:
    data = os.urandom(3_000_000) + b"\n\x00 tail"
    (lab.sandbox / "mail.tar").write_bytes(data)
    events: list[SshEvent] = []
    result = await transfer(
        hosts,
        HostPath("old", str(lab.sandbox / "mail.tar")),
        HostPath("new", str(lab_new.sandbox / "mail.tar")),
        sink=events.append,
    )
    assert (lab_new.sandbox / "mail.tar").read_bytes() == data
    assert result.size == len(data) and not result.directory
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    progress = [e for e in events if isinstance(e, TransferProgress)]
    assert progress and progress[-1].done == len(data) and progress[-1].total == len(data)
    assert progress[-1].eta == 0
    assert names(lab_new.sandbox) == ["mail.tar"]


async def test_a_directory_travels_as_tar_and_arrives_identical(
    hosts: HostConnections, lab: LabSshHost, lab_new: LabSshHost
) -> None:
    source = lab.sandbox / "Maildir"
    (source / "cur").mkdir(parents=True)
    (source / "new").mkdir()
    (source / "tmp").mkdir()
    (source / "cur" / "1700000000.M1.host:2,S").write_bytes(os.urandom(20_000))
    (source / "new" / "name with spaces & 'quotes'").write_text("hello\n")
    (source / "cur" / "empty").write_bytes(b"")
    events: list[SshEvent] = []
    result = await transfer(
        hosts, HostPath("old", str(source)), HostPath("new", str(lab_new.sandbox / "Maildir")), sink=events.append
    )
    assert result.directory
    assert tree(lab_new.sandbox / "Maildir") == tree(source)
    assert all(e.total is None and e.eta is None for e in events if isinstance(e, TransferProgress))
    assert names(lab_new.sandbox) == ["Maildir"]


async def test_paths_with_shell_metacharacters_are_quoted(
    hosts: HostConnections, lab: LabSshHost, lab_new: LabSshHost
) -> None:
    name = "it's $(touch pwned) `x` ; *.tar"
    (lab.sandbox / name).write_bytes(b"data")
    await transfer(hosts, HostPath("old", str(lab.sandbox / name)), HostPath("new", str(lab_new.sandbox / name)))
    assert (lab_new.sandbox / name).read_bytes() == b"data"
    assert not (lab.sandbox / "pwned").exists() and not (lab_new.sandbox / "pwned").exists()


async def test_a_missing_source_fails_and_names_it(
    hosts: HostConnections, lab: LabSshHost, lab_new: LabSshHost
) -> None:
    with pytest.raises(TransferError, match=r"^old: cannot read .*absent: no such file or directory$"):
        await transfer(hosts, HostPath("old", str(lab.sandbox / "absent")), HostPath("new", str(lab_new.sandbox / "x")))
    assert names(lab_new.sandbox) == []


def stand_in(folder: Path, name: str, script: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)
    return folder


@pytest.fixture
async def faulty_new(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[LabSshHost]:
    """A destination host whose `cat` misbehaves (the script is the test's parameter)."""
    bin_dir = stand_in(tmp_path / "fault-bin", "cat", request.param)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}"}
    async with LabSshHost(tmp_path / "lab-faulty", name="faulty", env=env) as host:
        yield host


@pytest.fixture
async def pair(tmp_path: Path, lab: LabSshHost, faulty_new: LabSshHost) -> AsyncIterator[HostConnections]:
    plan_hosts = {"old": Host.model_validate(lab.plan_host()), "new": Host.model_validate(faulty_new.plan_host())}
    async with HostConnections(plan_hosts, base_dir=tmp_path) as pool:
        yield pool


CORRUPTS = "exec /usr/bin/tr 'x' 'y'\n"
FAILS_MIDWAY = "head -c 100000; echo 'No space left on device' >&2; exit 1\n"
STALLS = "exec sleep 60\n"


@pytest.mark.parametrize("faulty_new", [CORRUPTS], indirect=True)
async def test_a_hash_mismatch_fails_and_leaves_no_final_file(
    pair: HostConnections, lab: LabSshHost, faulty_new: LabSshHost
) -> None:
    (lab.sandbox / "f").write_bytes(b"x" * 500_000)
    (faulty_new.sandbox / "f").write_bytes(b"previous version")
    with pytest.raises(
        TransferError, match=r"^new: SHA-256 mismatch for .*/f: sent [0-9a-f]{64}, written [0-9a-f]{64}$"
    ):
        await transfer(pair, HostPath("old", str(lab.sandbox / "f")), HostPath("new", str(faulty_new.sandbox / "f")))
    assert (faulty_new.sandbox / "f").read_bytes() == b"previous version"
    assert names(faulty_new.sandbox) == ["f"]


@pytest.mark.parametrize("faulty_new", [FAILS_MIDWAY], indirect=True)
async def test_a_failing_destination_leaves_no_final_file(
    pair: HostConnections, lab: LabSshHost, faulty_new: LabSshHost
) -> None:
    (lab.sandbox / "big").write_bytes(os.urandom(8_000_000))
    with pytest.raises(TransferError, match=r"^new: .*exit status 1\): No space left on device$"):
        await transfer(
            pair, HostPath("old", str(lab.sandbox / "big")), HostPath("new", str(faulty_new.sandbox / "big"))
        )
    assert names(faulty_new.sandbox) == []


@pytest.mark.parametrize("faulty_new", [STALLS], indirect=True)
async def test_cancel_mid_transfer_cleans_up_and_stops_both_ends(
    pair: HostConnections, lab: LabSshHost, faulty_new: LabSshHost, waits: Any
) -> None:
    (lab.sandbox / "big").write_bytes(os.urandom(20_000_000))
    task = asyncio.create_task(
        transfer(pair, HostPath("old", str(lab.sandbox / "big")), HostPath("new", str(faulty_new.sandbox / "big")))
    )
    assert await waits.until(lambda: any(p.name.endswith(".part") for p in faulty_new.sandbox.iterdir()))
    assert await waits.until(lambda: lab.running() == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert names(faulty_new.sandbox) == []
    assert await waits.until(lambda: lab.running() == 0 and faulty_new.running() == 0)


@pytest.mark.parametrize("faulty_new", [STALLS], indirect=True)
async def test_a_transfer_timeout_cleans_up(pair: HostConnections, lab: LabSshHost, faulty_new: LabSshHost) -> None:
    (lab.sandbox / "big").write_bytes(os.urandom(8_000_000))
    with pytest.raises(CommandTimeoutError, match=r"^new: transfer old:.*/big → new:.*/big timed out after 1s$"):
        await transfer(
            pair,
            HostPath("old", str(lab.sandbox / "big")),
            HostPath("new", str(faulty_new.sandbox / "big")),
            timeout=1,
        )
    assert names(faulty_new.sandbox) == []


async def test_a_directory_never_lands_inside_an_existing_one(
    hosts: HostConnections, lab: LabSshHost, lab_new: LabSshHost
) -> None:
    (lab.sandbox / "d").mkdir()
    (lab_new.sandbox / "d").mkdir()
    with pytest.raises(TransferError, match="already exists"):
        await transfer(hosts, HostPath("old", str(lab.sandbox / "d")), HostPath("new", str(lab_new.sandbox / "d")))
    assert names(lab_new.sandbox / "d") == []


@pytest.fixture
async def bare_new(tmp_path: Path) -> AsyncIterator[LabSshHost]:
    """A destination with only a few tools on its PATH: coreutils' sha256sum, no openssl."""
    bin_dir = tmp_path / "bare-bin"
    bin_dir.mkdir()
    for tool in ("cat", "wc", "mv", "rm", "mkdir", "tar", "sha256sum", "sleep"):
        found = next(Path(d) / tool for d in ("/usr/bin", "/bin") if (Path(d) / tool).exists())
        (bin_dir / tool).symlink_to(found)
    async with LabSshHost(tmp_path / "lab-bare", name="bare", env={"PATH": str(bin_dir)}) as host:
        yield host


async def test_sha256sum_verifies_where_openssl_is_missing(
    tmp_path: Path, lab: LabSshHost, bare_new: LabSshHost
) -> None:
    (lab.sandbox / "f").write_bytes(os.urandom(100_000))
    plan_hosts = {"old": Host.model_validate(lab.plan_host()), "new": Host.model_validate(bare_new.plan_host())}
    async with HostConnections(plan_hosts, base_dir=tmp_path) as hosts:
        await transfer(hosts, HostPath("old", str(lab.sandbox / "f")), HostPath("new", str(bare_new.sandbox / "f")))
    assert (bare_new.sandbox / "f").read_bytes() == (lab.sandbox / "f").read_bytes()


HANGS_AFTER_EOF = '/bin/cat > "$(mktemp)"; exec sleep 60\n'


@pytest.mark.parametrize("faulty_new", [HANGS_AFTER_EOF], indirect=True)
async def test_a_destination_that_never_finishes_after_the_data_fails_in_bounded_time(
    pair: HostConnections, lab: LabSshHost, faulty_new: LabSshHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.modules["cockpit.ssh.transfer"], "FINISH_TIMEOUT", 1.0)
    (lab.sandbox / "f").write_bytes(b"x" * 100_000)
    with pytest.raises(TransferError, match=r"^new: the destination did not finish writing within 1s"):
        await transfer(pair, HostPath("old", str(lab.sandbox / "f")), HostPath("new", str(faulty_new.sandbox / "f")))
    assert "f" not in names(faulty_new.sandbox)
