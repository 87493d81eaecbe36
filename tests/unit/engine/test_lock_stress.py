"""The plan lock under contention: four processes take and release it in a loop; never two hold it at once."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

from cockpit.engine.lock import LockHeld, PlanLock

PROCESSES = 4
SECONDS = 3.0


def _contend(lock_path: str, inside: str, seconds: float, results: multiprocessing.Queue[tuple[int, int]]) -> None:
    acquired = overlaps = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        lock = PlanLock(Path(lock_path))
        try:
            lock.acquire()
        except LockHeld:
            continue
        acquired += 1
        try:
            fd = os.open(inside, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            overlaps += 1
        else:
            os.close(fd)
            Path(inside).unlink()
        lock.release()
    results.put((acquired, overlaps))


def test_no_two_processes_hold_the_lock_at_once(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    results: multiprocessing.Queue[tuple[int, int]] = context.Queue()
    lock_path, inside = str(tmp_path / "plan.lock"), str(tmp_path / "inside")
    workers = [context.Process(target=_contend, args=(lock_path, inside, SECONDS, results)) for _ in range(PROCESSES)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    acquired = sum(a for a, _ in outcomes)
    overlaps = sum(o for _, o in outcomes)
    assert acquired > 100, "the processes never contended"
    assert overlaps == 0, f"{overlaps} overlaps in {acquired} acquisitions"
