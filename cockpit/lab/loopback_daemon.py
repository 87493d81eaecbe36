"""A server program on 127.0.0.1 run as a child process, its messages appended to a log file."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

ADDRESS = "127.0.0.1"


class LoopbackDaemon:
    """Starts the program, waits until it serves, and stops it (terminate, then kill)."""

    program = "daemon"
    """The program's name in error messages."""
    stop_timeout = 10.0
    """Seconds `stop` waits after SIGTERM before it kills."""

    def __init__(self, root: Path, log: Path) -> None:
        self.root = root
        self.log = log
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return ADDRESS

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def _launch(self, argv: list[str], *, log_stdout: bool = True) -> None:
        """Starts the program with stdin closed and stderr (and stdout, unless told not to) going to the log."""
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log if log_stdout else None, stderr=log
            )

    def _wait_until(self, ready: Callable[[], bool], timeout: float, pause: float, late: str) -> None:
        """Polls `ready` every `pause` seconds. Raises with the log's last line when the program exits first,
        or stops it and raises `late` when `timeout` seconds pass."""
        deadline = time.monotonic() + timeout
        while True:
            assert self._process is not None
            if self._process.poll() is not None:
                lines = self.log.read_text(errors="replace").strip().splitlines()
                raise RuntimeError(f"{self.program} exited at start: {lines[-1] if lines else 'no message'}")
            if ready():
                return
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(late)
            time.sleep(pause)

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=self.stop_timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=5)
        self._process = None
