"""The lab tally's three lines: the same figures the final tally prints, marked as partial while senders still
hold mail (the end of a run comes before the last retries)."""

from __future__ import annotations

from cockpit.commands.demo import tally_notices
from cockpit.lab.tally import LabTally, RunFigures, Verdict

FIGURES = RunFigures(downtime=27.2, downtime_over=True, downtime_proven=True, delta_seconds=0.3)


def tally(queued: int, deferral: float) -> LabTally:
    verdict = Verdict(sent=198, old=154, moved=154, new=38, lost=0, duplicated=0, stranded=0, queued=queued,
                      longest_deferral=deferral)  # fmt: skip
    return LabTally(verdict, old_ttl=15, figures=FIGURES)


def test_the_end_of_run_says_a_deferral_is_so_far_while_mail_is_queued() -> None:
    texts = [notice.text for notice in tally_notices(tally(queued=6, deferral=22.0), at=0.0)]
    assert texts == [
        "mail so far: sent 198 · old 154 · moved 154 · new 38",
        "mail so far: lost 0 · duplicated 0 · queued 6",
        "downtime 27s (floor 15s) · senders deferred mail up to 22s so far",
    ]
    assert all(len(text) <= 80 for text in texts)


def test_the_final_tally_and_a_run_with_nothing_queued_say_the_figure_as_final() -> None:
    settled = tally(queued=0, deferral=33.0)
    assert tally_notices(settled, at=0.0)[2].text == "downtime 27s (floor 15s) · senders deferred mail up to 33s"
    assert tally(queued=6, deferral=22.0).line().endswith("senders deferred mail up to 22s")
