"""Where and as whom to connect: the plan host, completed by its ~/.ssh/config entry.

Only HostName, User, Port, IdentityFile and ProxyJump are taken from the config file, and we read it
ourselves; asyncssh is then told to read no config at all, so no setting there (UserKnownHostsFile none,
HostKeyAlias, a ProxyJump opened with default options) can weaken host-key checking.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from pathlib import Path

from asyncssh.config import SSHClientConfig

from cockpit.plan import Host

DEFAULT_SSH_CONFIG = "~/.ssh/config"


@dataclass(frozen=True)
class Endpoint:
    """One SSH server to reach: the target itself, or a hop named in ProxyJump."""

    host: str
    """Name or address actually connected to (and looked up in known_hosts)."""
    port: int
    username: str
    identities: tuple[Path, ...]
    """Private key files from the plan and the config, in the order they are offered."""


@dataclass(frozen=True)
class Route:
    """The target and the ProxyJump hops before it, first hop first."""

    target: Endpoint
    jumps: tuple[Endpoint, ...] = ()


def resolve_route(host: Host, base_dir: Path, config_file: Path | None = None) -> Route:
    """Completes a plan host from the config file: plan values win, the config fills what the plan leaves out."""
    config_path = (config_file or Path(DEFAULT_SSH_CONFIG)).expanduser()
    name = host.ssh_config or host.address or ""
    plan_keys = tuple(_plan_path(item, base_dir) for item in host.identity)
    config = _lookup(config_path, name, host.user, host.port)
    target = Endpoint(
        host=host.address or str(config.get("Hostname", name)),
        port=int(str(config.get("Port", 22))),
        username=str(config.get("User") or _local_user()),
        identities=_unique(plan_keys + _config_keys(config)),
    )
    jumps: list[Endpoint] = []
    proxy_jump = config.get("ProxyJump")
    if isinstance(proxy_jump, str) and proxy_jump.lower() != "none":
        for hop in proxy_jump.split(","):
            jumps.append(_hop(hop.strip(), config_path, plan_keys))
    return Route(target, tuple(jumps))


def _hop(spec: str, config_path: Path, plan_keys: tuple[Path, ...]) -> Endpoint:
    """A ProxyJump entry `[user@]host[:port]`, itself completed from the config like ssh does."""
    spec = spec.removeprefix("ssh://")
    user, _, hostport = spec.rpartition("@")
    name, port = hostport, None
    if hostport.startswith("[") and "]" in hostport:
        name, _, rest = hostport[1:].partition("]")
        port = int(rest[1:]) if rest.startswith(":") else None
    elif hostport.count(":") == 1:
        name, _, port_text = hostport.partition(":")
        port = int(port_text)
    config = _lookup(config_path, name, user or None, port)
    return Endpoint(
        host=str(config.get("Hostname", name)),
        port=int(str(config.get("Port", 22))),
        username=str(config.get("User") or _local_user()),
        identities=_unique(_config_keys(config) + plan_keys),
    )


def _lookup(config_path: Path, name: str, user: str | None, port: int | None) -> SSHClientConfig:
    """The settings that apply to `name`, with the given user and port taking precedence."""
    paths = [config_path] if config_path.is_file() else []
    loaded = SSHClientConfig.load(
        None, paths, False, False, False, _local_user(), user if user else (), name, port if port else ()
    )
    assert isinstance(loaded, SSHClientConfig)
    return loaded


def _config_keys(config: SSHClientConfig) -> tuple[Path, ...]:
    files = config.get("IdentityFile", [])
    if not isinstance(files, list):
        return ()
    return tuple(Path(str(item)).expanduser() for item in files)


def _plan_path(item: str, base_dir: Path) -> Path:
    path = Path(item).expanduser()
    return path if path.is_absolute() else base_dir / path


def _unique(paths: tuple[Path, ...]) -> tuple[Path, ...]:
    return tuple(dict.fromkeys(paths))


def _local_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "root"
