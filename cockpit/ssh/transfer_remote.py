"""The shell commands a transfer runs on each end: probe, stream, verify, and move into place.

The destination is written under a hidden temporary name beside the final one (same filesystem, so the
last step is an atomic rename); a failed or cancelled transfer removes it and never touches the final name.
"""

from __future__ import annotations

import posixpath
import secrets
from dataclasses import dataclass

from cockpit.ssh.remote_shell import quote_path


def probe_source(path: str) -> str:
    """Prints `dir`, `file SIZE`, or `missing`/`unreadable`."""
    p = quote_path(path)
    return (
        f"if [ -d {p} ]; then echo dir; "
        f"elif [ -f {p} ] && [ -r {p} ]; then echo file $(wc -c < {p}); "
        f"elif [ -e {p} ]; then echo unreadable; else echo missing; fi"
    )


def source_stream(path: str, directory: bool) -> str:
    """Writes the file, or the directory as a tar archive of its contents, to stdout."""
    return f"tar -C {quote_path(path)} -cf - ." if directory else f"cat < {quote_path(path)}"


@dataclass(frozen=True)
class Destination:
    """The final path on the destination host and the temporary names used until the transfer is verified."""

    final: str
    directory: bool
    token: str

    @classmethod
    def for_path(cls, path: str, directory: bool) -> Destination:
        final = path.rstrip("/") or "/"
        if final in ("/", "~", ".", ".."):
            raise ValueError(f"{path!r} cannot be a transfer destination")
        return cls(final, directory, secrets.token_hex(4))

    @property
    def parent(self) -> str:
        return posixpath.dirname(self.final) or "."

    def _sibling(self, suffix: str) -> str:
        return posixpath.join(self.parent, f".{posixpath.basename(self.final)}.cockpit-{self.token}.{suffix}")

    @property
    def part(self) -> str:
        """Where the stream is written: the file itself, or the tar archive of a directory."""
        return self._sibling("tar" if self.directory else "part")

    @property
    def unpacked(self) -> str:
        """Where a directory is unpacked before it is renamed to its final name."""
        return self._sibling("dir")

    def preflight(self) -> str:
        """Fails (with a reason on stderr) when the stream could not be written or moved into place."""
        parent, final = quote_path(self.parent), quote_path(self.final)
        checks = [
            "command -v openssl >/dev/null 2>&1 || command -v sha256sum >/dev/null 2>&1 || "
            "{ echo 'neither openssl nor sha256sum is installed' >&2; exit 1; }",
            f"[ -d {parent} ] || {{ echo 'no such directory: '{parent} >&2; exit 1; }}",
            f"[ -w {parent} ] || {{ echo 'directory not writable: '{parent} >&2; exit 1; }}",
        ]
        if self.directory:
            checks.append(f"[ ! -e {final} ] || {{ echo 'already exists: '{final} >&2; exit 1; }}")
            checks.append("command -v tar >/dev/null 2>&1 || { echo 'tar is not installed' >&2; exit 1; }")
        else:
            checks.append(f"[ ! -d {final} ] || {{ echo 'is a directory: '{final} >&2; exit 1; }}")
        return "; ".join(checks)

    def receive(self) -> str:
        """Writes stdin to the temporary name."""
        return f"cat > {quote_path(self.part)}"

    def checksum(self) -> str:
        """Prints the SHA-256 of the written file (hex first): with OpenSSL where present, as it uses the CPU's
        SHA instructions (faster than coreutils' sha256sum: bench/README.md, transfer), else with sha256sum."""
        part = quote_path(self.part)
        return (
            f"if command -v openssl >/dev/null 2>&1; then openssl dgst -sha256 -r < {part}; else sha256sum < {part}; fi"
        )

    def commit(self) -> str:
        """Moves the verified data to its final name (a directory is unpacked first)."""
        part, final = quote_path(self.part), quote_path(self.final)
        if not self.directory:
            return f"mv -f -- {part} {final}"
        unpacked = quote_path(self.unpacked)
        return (
            f"mkdir -- {unpacked} && tar -C {unpacked} -xf {part} && rm -f -- {part} && "
            f"{{ [ ! -e {final} ] || {{ echo 'already exists: '{final} >&2; exit 1; }}; }} && mv -- {unpacked} {final}"
        )

    def cleanup(self) -> str:
        """Removes every temporary name; the final name is never touched."""
        return f"rm -rf -- {quote_path(self.part)} {quote_path(self.unpacked)}"
