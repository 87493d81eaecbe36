"""The garbage collector set up for a long watch over thousands of pairs.

CPython's collector looks at every tracked object now and then: the imported modules, the plan, and — at
hosting-company scale — each of 10,000 pairs' history. A round makes tens of thousands of short-lived
objects (the questions in flight, the observations that replace the last round's), so the youngest
generation fills every 700 allocations and an older one is searched every few rounds, each time through
everything. Two settings make that cheap, measured in bench/dns_scale.py:

* what exists once the plan is loaded (modules, classes, the plan) is frozen: never searched again (it is
  still freed as usual when nothing refers to it; only a reference cycle among frozen objects would stay);
* the youngest generation is collected every 10,000 allocations rather than every 700, so most of a round's
  short-lived objects are gone, freed by their reference count, before a collection would look at them.

Long-running commands call `settle()` once after start-up; the library never changes the collector itself.
"""

from __future__ import annotations

import gc

YOUNGEST = 10_000
"""Allocations (less deallocations) between two collections of the youngest generation."""


_settled = False


def settle() -> None:
    """Collect once, freeze what survives, and raise the youngest generation's threshold; once per process."""
    global _settled
    if _settled:
        return
    _settled = True
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(max(YOUNGEST, gc.get_threshold()[0]), middle, oldest)
