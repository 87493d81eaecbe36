"""In-process SSH hosts for the SSH layer's tests, with HOME isolated so no real ~/.ssh is read or written."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from cockpit.lab.ssh_host import LabSshHost, process_alive
from cockpit.plan import Host
from cockpit.ssh import HostConnections


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return home


@pytest.fixture
async def lab(tmp_path: Path) -> AsyncIterator[LabSshHost]:
    async with LabSshHost(tmp_path / "lab-old", name="old") as host:
        yield host


@pytest.fixture
async def lab_new(tmp_path: Path) -> AsyncIterator[LabSshHost]:
    async with LabSshHost(tmp_path / "lab-new", name="new") as host:
        yield host


@pytest.fixture
async def hosts(tmp_path: Path, lab: LabSshHost, lab_new: LabSshHost) -> AsyncIterator[HostConnections]:
    plan_hosts = {"old": Host.model_validate(lab.plan_host()), "new": Host.model_validate(lab_new.plan_host())}
    async with HostConnections(plan_hosts, base_dir=tmp_path) as pool:
        yield pool


class Waits:
    """Bounded polling for effects on the host side; the guards are generous and no timing is asserted."""

    async def until(self, check: Callable[[], bool], seconds: float = 15.0) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not check():
            if loop.time() > deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    async def pid_in(self, path: Path) -> int:
        assert await self.until(lambda: path.exists() and path.read_text().strip() != ""), f"{path} never written"
        return int(path.read_text().strip())

    async def gone(self, pid: int) -> bool:
        return await self.until(lambda: not process_alive(pid))


@pytest.fixture
def waits() -> Waits:
    return Waits()
