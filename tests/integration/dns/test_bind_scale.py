"""A whole server's domains against real BIND: 5,000 zones on two named instances, a plan that reads its domains
from a file. `cockpit watch --once` counts all 10,000 pairs; the full screen in tmux shows the counting pane
and answers keys while the rounds run. (How fast: bench/ui_scale.py and bench/dns_scale.py; no timing here.)
"""

from __future__ import annotations

import asyncio
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dns.message
import dns.query
import dns.rdatatype
import pytest

from tests.integration.dns.conftest import NAMED, Bind, _free_port, _options, _start, _stop
from tests.integration.engine.test_fullscreen_terminal import Tmux
from tests.support import require

pytestmark = pytest.mark.slow

DOMAINS = 5000
ZONE = """\
$TTL 600
@       IN SOA  ns1 hostmaster ( 1 3600 600 86400 300 )
        IN NS   ns1
        IN MX   10 mail.old-host.net.
ns1     IN A    127.0.0.1
"""
PLAN = """\
version: 1
name: Move a whole server
domains_file: domains.txt
nameservers: ["127.0.0.1:{one}", "127.0.0.1:{two}"]
dns: {{interval: 2s, timeout: 3s, concurrency: 1024}}
mx:
  old: "10 mail.old-host.net."
  parking: "10 parked.new-host.net."
  new: "10 mail.new-host.net."
phases:
  - name: during
    steps:
      - wait_dns: {{mx: parking}}
        id: parking-everywhere
"""


def domain(number: int) -> str:
    return f"d{number:04d}.example"


def serves(port: int, name: str) -> bool:
    try:
        answer = dns.query.udp(dns.message.make_query(name, dns.rdatatype.MX), "127.0.0.1", timeout=0.5, port=port)
    except Exception:
        return False
    return bool(answer.answer)


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[int]]:
    require(NAMED, "named (bind9)")
    started: list[Bind] = []
    try:
        for name in ("one", "two"):
            directory = tmp_path / name
            directory.mkdir()
            (directory / "generic.db").write_text(ZONE)
            port = _free_port()
            zones = "".join(f'zone "{domain(n)}" {{ type primary; file "generic.db"; }};\n' for n in range(DOMAINS))
            started.append(_start(directory, port, _options(directory, port) + zones))
        for bind in started:
            for _ in range(600):
                if bind.process.poll() is not None:
                    raise AssertionError(f"named exited:\n{bind.log()}")
                if serves(bind.port, domain(DOMAINS - 1)):
                    break
                subprocess.run(["sleep", "0.1"], check=True)
            else:
                raise AssertionError(f"named did not load {DOMAINS} zones within 60 s:\n{bind.log()}")
        yield [bind.port for bind in started]
    finally:
        for bind in started:
            _stop(bind)


async def until_gone(window: Tmux, text: str) -> None:
    for _ in range(150):
        if text not in await window.screen():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{text!r} stayed on screen")


def write_plan(folder: Path, ports: list[int]) -> Path:
    (folder / "domains.txt").write_text("# the server's domains\n" + "".join(f"{domain(n)}\n" for n in range(DOMAINS)))
    path = folder / "plan.yaml"
    path.write_text(PLAN.format(one=ports[0], two=ports[1]))
    return path


def test_watch_once_counts_ten_thousand_pairs_on_real_bind(servers: list[int], tmp_path: Path) -> None:
    plan = write_plan(tmp_path, servers)
    result = subprocess.run(
        [sys.executable, "-m", "cockpit", "watch", str(plan), "--once"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    assert "10,000 pairs" in result.stdout and "old 10,000" in result.stdout, result.stdout
    assert "errors 0" in result.stdout, result.stdout


async def test_the_full_screen_counts_the_pairs_and_answers_keys_while_polling(
    servers: list[int], tmp_path: Path
) -> None:
    plan = write_plan(tmp_path, servers)
    window = Tmux(120, 40)
    assert plan.parent == tmp_path
    env = f"HOME={shlex.quote(str(tmp_path))} TERM=xterm-256color"
    command = f"cd {shlex.quote(str(tmp_path))} && {env} {shlex.quote(sys.executable)} -m cockpit run {plan.name}"
    try:
        await window.start(command)
        await window.wait_for("10,000 pairs · 5,000 domains", 60)
        screen = await window.wait_for("old 10,000 (5,000 domains all)", 90)
        assert "every pair serves old" in screen
        # Keys are answered while the rounds run: help opens and closes, the checklist moves.
        for _ in range(3):
            await window.keys("?")
            await window.wait_for("Keys of the cockpit", 30)
            await window.keys("Escape")
            await until_gone(window, "Keys of the cockpit")
        await window.keys("q")
        left = await window.wait_for("EXIT=", 60)
        assert "EXIT=" in left
    finally:
        await window.kill()
