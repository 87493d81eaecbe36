"""In-process SSH hosts for the SSH layer's tests, with HOME isolated so no real ~/.ssh is read or written."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cockpit.lab.ssh_host import LabSshHost
from cockpit.plan import Host
from cockpit.ssh import HostConnections
from tests.support import isolated_home

home = pytest.fixture(autouse=True, name="home")(isolated_home)


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
