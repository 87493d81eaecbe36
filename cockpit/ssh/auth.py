"""Client keys: the ssh-agent first, then the identity files; a passphrase is asked only when needed.

An encrypted key is decrypted with a passphrase that the caller's prompt (the UI or the terminal) returns.
The passphrase is used at once and dropped; only the decrypted key stays, in memory, for the rest of the
run, so one passphrase is asked once however many connections use the key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import asyncssh

PassphrasePrompt = Callable[[str], Awaitable[str | None]]
"""Called with a description of the key (its file); returns the passphrase, or None to skip the key."""

PASSPHRASE_ATTEMPTS = 3


class KeyRing:
    """Identity files loaded once per run; encrypted ones wait until the server refused everything else."""

    def __init__(self, prompt: PassphrasePrompt | None = None) -> None:
        self._prompt = prompt
        self._loaded: dict[Path, Sequence[asyncssh.SSHKeyPair]] = {}
        self._refused: set[Path] = set()
        """Encrypted keys whose passphrase was not given: not asked again in this run."""
        self._asking = asyncio.Lock()
        """One question at a time: connections opened together (every host at the start of a run) that need
        the same key wait for the first answer instead of asking again over each other."""

    def split(self, files: Sequence[Path]) -> tuple[list[asyncssh.SSHKeyPair], list[Path], list[str]]:
        """Keys usable now, encrypted files to unlock on demand, and problems to report if auth fails."""
        ready: list[asyncssh.SSHKeyPair] = []
        locked: list[Path] = []
        problems: list[str] = []
        for path in files:
            if path in self._loaded:
                ready.extend(self._loaded[path])
                continue
            try:
                keys = asyncssh.load_keypairs(path)
            except FileNotFoundError:
                problems.append(f"identity file {path} not found")
            except OSError as exc:
                problems.append(f"identity file {path}: {exc.strerror}")
            except (asyncssh.KeyImportError, ValueError) as exc:
                if "assphrase" in str(exc):
                    if path in self._refused:
                        problems.append(f"identity file {path}: no valid passphrase given")
                    else:
                        locked.append(path)
                else:
                    problems.append(f"identity file {path}: {exc}")
            else:
                self._loaded[path] = keys
                ready.extend(keys)
        return ready, locked, problems

    async def unlock(self, path: Path, problems: list[str]) -> Sequence[asyncssh.SSHKeyPair]:
        """Asks for the passphrase of `path` (a few tries) and returns its keys, or nothing."""
        async with self._asking:
            return await self._unlock(path, problems)

    async def _unlock(self, path: Path, problems: list[str]) -> Sequence[asyncssh.SSHKeyPair]:
        if path in self._loaded:
            return self._loaded[path]
        if path in self._refused:
            problems.append(f"identity file {path}: no valid passphrase given")
            return ()
        if self._prompt is None:
            problems.append(f"identity file {path} is encrypted and no passphrase prompt is available")
            return ()
        for attempt in range(PASSPHRASE_ATTEMPTS):
            label = f"Passphrase for key {path}" + (" (try again)" if attempt else "")
            secret = await self._prompt(label)
            if secret is None:
                break
            try:
                keys = asyncssh.load_keypairs(path, secret)
            except (asyncssh.KeyImportError, ValueError):
                continue
            finally:
                del secret
            self._loaded[path] = keys
            return keys
        self._refused.add(path)
        problems.append(f"identity file {path}: no valid passphrase given")
        return ()
