"""The report's reading of a journal: the downtime window over every nameserver the journal names (one that
never flipped keeps it open; a flip made while no cockpit watched closes it), and failures that the operator
then skipped or that a stopped cockpit left behind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cockpit.dns import MxEntry, Observation, Pair, PairView, Server, Snapshot, Status
from cockpit.engine.events import DnsFlip, DnsRound, EventBus
from cockpit.engine.journal import JournalWriter, read_journal
from cockpit.engine.report import build_timeline, render_html, render_markdown

STATES = ("old", "parking", "new")


def started(at: float) -> dict[str, Any]:
    return {"type": "RunStarted", "at": at, "plan_name": "p", "step_ids": ["a"], "step_titles": ["A"],
            "mx_states": list(STATES), "mode": "step"}  # fmt: skip


def seen(at: float, *pairs: tuple[str, str]) -> dict[str, Any]:
    return {"type": "DnsStates", "at": at, "pairs": [["example.com", ns, state] for ns, state in pairs]}


def flip(at: float, ns: str, before: str, after: str) -> dict[str, Any]:
    return {"type": "DnsFlip", "at": at, "domain": "example.com", "nameserver": ns, "before": before,
            "after": after, "ttl": 60}  # fmt: skip


def window(timeline: Any) -> tuple[float | None, float | None]:
    return timeline.downtime.started, timeline.downtime.ended


def proof(at: float, through_mx: bool) -> dict[str, Any]:
    return {"type": "ListenerProven", "at": at, "step_id": "x", "through_mx": through_mx}


def test_a_canary_through_the_parking_mx_ends_the_downtime_before_the_final_flip() -> None:
    timeline = build_timeline([
        started(0), seen(1, ("ns1", "old"), ("ns2", "old")),
        flip(10, "ns1", "old", "parking"), flip(12, "ns2", "old", "parking"),
        proof(20, True), flip(30, "ns1", "parking", "new"), flip(33, "ns2", "parking", "new"),
    ])  # fmt: skip
    assert window(timeline) == (10, 20) and timeline.downtime.proven
    assert "10s, from" in render_markdown(timeline)


def test_a_port_found_open_ends_it_when_the_first_nameserver_serves_new() -> None:
    before_flip = build_timeline([
        started(0), seen(1, ("ns1", "old"), ("ns2", "old")), flip(10, "ns1", "old", "parking"),
        proof(20, False), flip(30, "ns1", "parking", "new"), flip(33, "ns2", "parking", "new"),
    ])  # fmt: skip
    assert window(before_flip) == (10, 30)
    after_flip = build_timeline([
        started(0), seen(1, ("ns1", "old")), flip(10, "ns1", "old", "parking"),
        flip(30, "ns1", "parking", "new"), proof(36, False),
    ])  # fmt: skip
    assert window(after_flip) == (10, 36)


def test_without_a_proof_the_end_is_every_nameserver_on_new_and_says_so() -> None:
    timeline = build_timeline([
        started(0), seen(1, ("ns1", "old")), flip(10, "ns1", "old", "parking"), flip(30, "ns1", "parking", "new"),
    ])  # fmt: skip
    assert window(timeline) == (10, 30) and not timeline.downtime.proven
    assert "no step proved the new MTA listens" in render_markdown(timeline)


def test_window_from_first_leaving_old_to_all_new() -> None:
    timeline = build_timeline([
        started(0), seen(1, ("ns1", "old"), ("ns2", "old")),
        flip(10, "ns1", "old", "parking"), flip(12, "ns2", "old", "parking"),
        flip(30, "ns1", "parking", "new"), flip(33, "ns2", "parking", "new"),
        seen(40, ("ns1", "new"), ("ns2", "new")),
    ])  # fmt: skip
    assert window(timeline) == (10, 33)
    assert "23s, from" in render_markdown(timeline)


def test_a_nameserver_that_never_flipped_keeps_the_window_open() -> None:
    timeline = build_timeline([
        started(0), seen(1, ("ns1", "old"), ("ns2", "old"), ("ns3", "old")),
        flip(10, "ns1", "old", "parking"), flip(12, "ns2", "old", "parking"),
        flip(30, "ns1", "parking", "new"), flip(33, "ns2", "parking", "new"),
    ])  # fmt: skip
    assert window(timeline) == (10, None)
    text = render_markdown(timeline)
    assert "still open" in text and "ns3 serves 'old' for example.com" in text


def test_a_flip_while_no_cockpit_watched_counts_when_seen() -> None:
    timeline = build_timeline([
        started(0), seen(1, ("ns1", "old"), ("ns2", "old")),
        flip(10, "ns1", "old", "parking"), flip(12, "ns2", "old", "parking"),
        flip(30, "ns1", "parking", "new"),
        started(50), seen(51, ("ns1", "new"), ("ns2", "new")),
    ])  # fmt: skip
    assert window(timeline) == (10, 51)
    unwatched = [f for f in timeline.flips if f.get("unwatched")]
    assert [(f["nameserver"], f["before"], f["after"], f["at"]) for f in unwatched] == [("ns2", "parking", "new", 51)]
    assert "flipped while no cockpit watched" in render_markdown(timeline)


def test_a_window_that_closes_and_opens_again_ends_at_the_last_arrival() -> None:
    timeline = build_timeline([
        started(0), seen(1, ("ns1", "old")),
        flip(10, "ns1", "old", "parking"), flip(20, "ns1", "parking", "new"),
        flip(25, "ns1", "new", "parking"), flip(40, "ns1", "parking", "new"),
        seen(50, ("ns1", "new")),
    ])  # fmt: skip
    assert window(timeline) == (10, 40)


def test_failures_also_of_skipped_and_interrupted_steps() -> None:
    records: list[dict[str, Any]] = [
        started(0),
        {"type": "StepChanged", "at": 1, "step_id": "a", "state": "running", "detail": ""},
        {"type": "StepIntent", "at": 1, "step_id": "a", "attempt": 1, "action": "x"},
        {"type": "OutputLine", "at": 2, "step_id": "a", "host": "old", "stream": "stderr", "text": "boom"},
        {"type": "StepChanged", "at": 3, "step_id": "a", "state": "failed", "detail": "old: exit status 3"},
        {"type": "Decision", "at": 4, "step_id": "a", "action": "skip", "source": "operator", "reason": "later"},
        {"type": "StepChanged", "at": 4, "step_id": "a", "state": "skipped", "detail": "later"},
        {"type": "StepChanged", "at": 5, "step_id": "b", "state": "running", "detail": ""},
        {"type": "StepIntent", "at": 5, "step_id": "b", "attempt": 1, "action": "y"},
        {"type": "OutputLine", "at": 6, "step_id": "b", "host": "new", "stream": "stdout", "text": "half"},
        started(10),
        {"type": "Decision", "at": 11, "step_id": "b", "action": "mark-done", "source": "--decide"},
        {"type": "StepChanged", "at": 11, "step_id": "b", "state": "done", "detail": "marked done"},
    ]
    timeline = build_timeline(records)
    a, b = timeline.steps["a"], timeline.steps["b"]
    assert (a.result, b.result) == ("skipped", "done")
    assert a.failures == [("failed: old: exit status 3", ["old stderr: boom"])]
    assert b.failures == [("interrupted: the cockpit stopped during the step — outcome unknown", ["new stdout: half"])]
    assert b.confirmed_by == "--decide (mark-done)"
    text = render_markdown(timeline)
    assert "### a (finally skipped)" in text and "### b (finally done)" in text
    page = render_html(timeline)
    assert "boom" in page and "half" in page


def test_a_journal_that_ends_mid_step_shows_it_interrupted() -> None:
    timeline = build_timeline([
        started(0),
        {"type": "StepChanged", "at": 1, "step_id": "a", "state": "running", "detail": ""},
        {"type": "StepIntent", "at": 1, "step_id": "a", "attempt": 1, "action": "x"},
    ])  # fmt: skip
    assert timeline.steps["a"].result == "interrupted"
    assert timeline.outcome.startswith("unfinished")


def _snapshot(at: float, *states: tuple[int, str | None]) -> Snapshot:
    views = []
    for port, state in states:
        pair = Pair("example.com", Server("127.0.0.1", port, f"ns{port}.example.com"))
        status = Status.OK if state is not None else Status.TIMEOUT
        mx = (MxEntry(10, f"{state}.example.net."),) if state is not None else ()
        views.append(PairView(Observation(pair, status, at, mx, 60 if state else None), state, None, False))
    return Snapshot(1, at, at, tuple(views))


def test_journal_names_every_pair_once_per_run_and_unwatched_changes(tmp_path: Path) -> None:
    path = tmp_path / "j"
    bus = EventBus()
    writer = JournalWriter(path)
    bus.subscribe(writer)
    bus.publish(DnsRound(1.0, _snapshot(1.0, (1, "old"), (2, "old"))))
    bus.publish(DnsRound(2.0, _snapshot(2.0, (1, "old"), (2, None))))  # a failed poll changes nothing
    bus.publish(DnsFlip(3.0, "example.com", "ns1.example.com:1", "old", "parking", 60))
    bus.publish(DnsRound(3.0, _snapshot(3.0, (1, "parking"), (2, "old"))))  # the flip said it already
    writer.close()
    writer = JournalWriter(path)  # the next run starts knowing nothing
    bus = EventBus()
    bus.subscribe(writer)
    bus.publish(DnsRound(9.0, _snapshot(9.0, (1, "parking"), (2, "parking"))))
    writer.close()
    records = [r for r in read_journal(path).records if r["type"] == "DnsStates"]
    assert [(r["at"], r["pairs"]) for r in records] == [
        (1.0, [["example.com", "ns1.example.com:1", "old", None], ["example.com", "ns2.example.com:2", "old", None]]),
        (9.0, [["example.com", "ns1.example.com:1", "parking", None],
               ["example.com", "ns2.example.com:2", "parking", None]]),
    ]  # fmt: skip


def test_a_later_round_journals_only_the_pairs_that_changed(tmp_path: Path) -> None:
    """A serial that moves on one server (a signer re-signing, a provider counting its edits) journals that pair,
    not every pair again; the report still knows every pair's latest state."""
    path = tmp_path / "j"
    bus = EventBus()
    writer = JournalWriter(path)
    bus.subscribe(writer)
    pairs = [Pair(f"d{i}.example", Server(f"127.0.0.{1 + i % 2}", 53)) for i in range(40)]

    def snapshot(at: float, moved: int, serial: int) -> Snapshot:
        views = []
        for index, pair in enumerate(pairs):
            mx = (MxEntry(10, "mail.old-host.net."),)
            obs = Observation(pair, Status.OK, at, mx, 60, serial=serial if index == moved else 1)
            views.append(PairView(obs, "old", None, False))
        return Snapshot(int(at), at, at, tuple(views))

    bus.publish(DnsRound(1.0, snapshot(1.0, -1, 1)))
    bus.publish(DnsRound(2.0, snapshot(2.0, 7, 2)))
    bus.publish(DnsRound(3.0, snapshot(3.0, 7, 2)))  # nothing new
    bus.publish(DnsRound(4.0, snapshot(4.0, 7, 3)))
    writer.close()
    records = [r for r in read_journal(path).records if r["type"] == "DnsStates"]
    assert [(r["at"], len(r["pairs"])) for r in records] == [(1.0, 40), (2.0, 1), (4.0, 1)]
    assert records[-1]["pairs"] == [["d7.example", "127.0.0.2", "old", 3]]
    timeline = build_timeline(read_journal(path).records)
    assert len(timeline.dns_now) == 40 and set(timeline.dns_now.values()) == {"old"}
    assert timeline.warnings == []


def test_the_report_says_how_the_dns_stood_when_the_journal_ends() -> None:
    timeline = build_timeline([
        started(0), {"type": "DnsStates", "at": 1, "pairs": [["example.com", "ns1", "old", 4], ["example.com", "ns2", "old", 4]]},
        flip(10, "ns1", "old", "new"),
        {"type": "DnsStates", "at": 11, "pairs": [["example.com", "ns1", "new", 5], ["example.com", "ns2", "old", 4]]},
        {"type": "DnsTtl", "at": 12, "domain": "example.com", "nameserver": "ns1", "before": 3600, "after": 600},
        {"type": "RunFinished", "at": 13, "outcome": "done", "exit_code": 0},
    ])  # fmt: skip
    assert timeline.warnings == [
        "the journal ends while ns2 still serves serial 4 for example.com (others serve 5)",
        "the journal ends while ns2 still serves 'old' for example.com",
    ]
    text = render_markdown(timeline)
    assert "- Warning: the journal ends while ns2 still serves serial 4" in text
    assert "| example.com | ns1 | 3600 s → 600 s |" in text
    assert "started (step mode)" in text and "ended: done (exit 0)" in text


def test_a_drain_says_since_when_the_old_store_was_quiet_and_when_the_final_copy_started() -> None:
    from cockpit.base.units import format_timestamp

    records = [
        started(1000.0),
        {"type": "DrainObserved", "at": 1100.0, "step_id": "drain-old", "store": "old-store",
         "last_arrival": 1060.0, "quiet_since": 1060.0},
        {"type": "SyncPass", "at": 1130.0, "step_id": "delta", "source": "old-store", "dest": "new-store",
         "messages": 3, "bytes": 900, "seconds": 12.0, "source_messages": 40, "source_bytes": 9000,
         "inventory_seconds": 2.0, "copy_seconds": 10.0},
    ]  # fmt: skip
    text = render_markdown(build_timeline(records))
    assert (
        f"- Drain **drain-old**: old-store quiet since {format_timestamp(1060.0)} (last arrival "
        f"{format_timestamp(1060.0)}); the final copy from it (delta) started at {format_timestamp(1118.0)}"
    ) in text
    assert "Drain <strong>drain-old</strong>: old-store quiet since" in render_html(build_timeline(records))
    quiet_only = render_markdown(build_timeline(records[:2]))
    assert "(last arrival" in quiet_only and "no copy from it after that" in quiet_only
