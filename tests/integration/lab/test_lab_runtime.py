"""The embedded lab as the demo plan meets it: real UDP/TCP DNS, real SSH, real SMTP on loopback."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from cockpit.dns import DirectQuerier, Pair, Server, TsigKey, load_tsig_key, parse_tsig_key, update_mx
from cockpit.lab.demo_plan import MX_HOSTS
from cockpit.lab.errors import LabError
from cockpit.lab.lab_folder import MARKER
from cockpit.lab.pace import Pace
from cockpit.lab.runtime import Lab
from cockpit.plan import load_plan
from tests.integration.lab.plan_driver import PlanDriver, probe


def socket_fds() -> set[int]:
    """The process's open sockets (by file descriptor)."""
    found = set()
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            if str(fd.readlink()).startswith("socket:"):
                found.add(int(fd.name))
    return found


async def settle(check: object, seconds: float = 10.0) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not check():  # type: ignore[operator]
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def test_lab_starts_writes_a_loadable_plan_and_stops_without_leaks(tmp_path: Path) -> None:
    tasks_before = asyncio.all_tasks()
    sockets_before = socket_fds()
    async with Lab.start(tmp_path / "lab", speed=50, smtp_port=0) as lab:
        plan = load_plan(lab.plan_path).plan
        assert lab.plan_path == tmp_path / "lab" / "plan.yaml"
        assert [ns.port for ns in plan.nameservers] == [lab.primary.port, lab.secondary.port]
        assert lab.old is not None and lab.new is not None
        assert (plan.hosts["old"].port, plan.hosts["new"].port) == (lab.old.port, lab.new.port)
        assert len((lab.directory / "known_hosts").read_text().splitlines()) == 2
        assert (lab.directory / "tsig.key").stat().st_mode & 0o077 == 0
        assert (lab.directory / "id_ed25519").stat().st_mode & 0o077 == 0
        key = load_tsig_key(plan.secrets["dnskey"], lab.directory)
        assert key.name == "demo-update." and key.algorithm == "hmac-sha256"
        assert await settle(lambda: lab.store("old").ids().total() > 0), "the old MTA receives"
        assert lab.mtas["old"].running and not lab.mtas["new"].running
        assert len(lab.describe()) == 8
    await asyncio.sleep(0)
    assert asyncio.all_tasks() - tasks_before == set()
    assert await settle(lambda: socket_fds() <= sockets_before), socket_fds() - sockets_before


async def test_a_lab_folder_is_reused_only_when_it_held_a_lab(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(LabError, match="is not empty and holds no earlier lab"):
        async with Lab.start(tmp_path / "mine", speed=50):
            pass
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    async with Lab.start(tmp_path / "again", speed=50) as lab:
        assert await settle(lambda: lab.store("old").ids().total() > 0)
    async with Lab.start(tmp_path / "again", speed=50) as lab:
        assert (lab.directory / MARKER).exists()
        assert lab.store("old").ids().total() < 5, "the earlier lab's stores were removed"


async def test_a_taken_smtp_port_is_one_clear_error(tmp_path: Path) -> None:
    blocker = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.2", 0)
    port = blocker.sockets[0].getsockname()[1]
    try:
        with pytest.raises(LabError, match=rf"cannot use SMTP port 127\.0\.0\.2:{port}: something already listens"):
            async with Lab.start(tmp_path / "lab", speed=50, smtp_port=port):
                pass
    finally:
        blocker.close()
        await blocker.wait_closed()


def _wrong_key(right: TsigKey) -> TsigKey:
    return parse_tsig_key(f"hmac-sha256:{right.name}:{'A' * 43}=", "a wrong key")


async def test_updates_need_the_lab_key_and_reach_the_secondary_after_its_lag(tmp_path: Path) -> None:
    pace = Pace.at(1, secondary_lag=1.5 * 1)
    async with Lab.start(tmp_path / "lab", pace=pace) as lab:
        plan = load_plan(lab.plan_path).plan
        key = load_tsig_key(plan.secrets["dnskey"], lab.directory)
        primary = Pair("demo.test", Server("127.0.0.1", lab.primary.port, "ns1.demo.test"))
        secondary = Pair("demo.test", Server("127.0.0.1", lab.secondary.port, "ns2.demo.test"))
        querier = DirectQuerier(timeout=1)
        try:
            before = await querier.observe(primary)
            assert (before.mx_text(), before.ttl) == (f"10 {MX_HOSTS['old']}", pace.normal_ttl)

            refused = await update_mx(
                address="127.0.0.1",
                port=lab.primary.port,
                domain="demo.test",
                records=plan.mx_records("parking", "demo.test"),
                ttl=5,
                key=_wrong_key(key),
            )
            assert not refused.ok and refused.outcome == "BADSIG", refused.message
            unsigned = await update_mx(
                address="127.0.0.1", port=lab.primary.port, domain="demo.test", records=plan.mx_records("parking", "demo.test"), ttl=5,
                key=None,
            )  # fmt: skip
            assert not unsigned.ok and unsigned.outcome == "REFUSED"
            assert (await querier.observe(primary)).mx_text() == f"10 {MX_HOSTS['old']}"

            done = await update_mx(
                address="127.0.0.1", port=lab.primary.port, domain="demo.test", records=plan.mx_records("parking", "demo.test"), ttl=5,
                key=key,
            )  # fmt: skip
            assert done.ok, done.message
            now_primary, now_secondary = await querier.observe_all([primary, secondary])
            assert (now_primary.mx_text(), now_primary.ttl) == (f"10 {MX_HOSTS['parking']}", 5)
            assert now_secondary.mx_text() == f"10 {MX_HOSTS['old']}", "the secondary lags behind"
            assert now_secondary.serial is not None and now_primary.serial == now_secondary.serial + 1

            seen = []
            async with asyncio.timeout(20):
                while not seen or seen[-1].mx_text() != f"10 {MX_HOSTS['parking']}":
                    await asyncio.sleep(0.1)
                    seen.append(await querier.observe(secondary))
                    assert len(seen) < 100, [(o.status, o.detail) for o in seen[-5:]]
            assert lab.timeline.old_ttl() == pace.normal_ttl
        finally:
            await querier.close()


async def test_the_new_mta_starts_only_through_the_plan_ssh_steps(tmp_path: Path) -> None:
    async with Lab.start(tmp_path / "lab", speed=50) as lab, PlanDriver(lab.plan_path) as driver:
        new = lab.values.smtp_new if lab.values else None
        parking = lab.values.smtp_parking if lab.values else None
        assert new is not None and parking is not None and lab.new is not None
        assert await probe(new.address, new.port) == "refused"
        await driver.run_step(driver.step("start-new-mta"))
        assert driver.output["start-new-mta"] == [f"listening on {new}"]
        reader, writer = await asyncio.open_connection(new.address, new.port)
        banner = await reader.readline()
        writer.close()
        assert banner.startswith(b"220 ")
        assert await probe(parking.address, parking.port) == "refused"
        assert lab.mtas["new"].starts == 1

        # The parking address opens to the new MTA only when the plan says so; it delivers into new's store.
        await driver.run_step(driver.step("open-parking"))
        assert driver.output["open-parking"] == [f"listening on {parking}"]
        assert lab.mtas["parking"].running and lab.mtas["parking"].mta.store.root == lab.store("new").root
        assert "the new MTA listens here too" in "\n".join(lab.describe())

        (lab.new.sandbox / "mta" / "enabled").unlink()
        (lab.new.sandbox / "mta" / "parking").unlink()
        assert await settle(lambda: not lab.mtas["new"].running and not lab.mtas["parking"].running)
        assert await probe(new.address, new.port) == "refused"
        assert await probe(parking.address, parking.port) == "refused"
