"""Named MX states, other and mixed; per-pair history with flips and the old TTL."""

from __future__ import annotations

from cockpit.dns.classify import MIXED, OTHER, Classifier, classify, classify_mx
from cockpit.dns.history import History
from cockpit.dns.observation import MxEntry, Observation, Pair, Server, Status
from cockpit.plan.values import MxRecord

STATES = {
    "old": (MxRecord("mail.old-host.net."),),
    "parking": (MxRecord("parked.new-host.net.", 10),),
    "new": (MxRecord("mail.new-host.net.", 10), MxRecord("backup.new-host.net.", 20)),
}
OLD = (MxEntry(10, "mail.old-host.net."),)
PARK = (MxEntry(10, "parked.new-host.net."),)
P = Pair("example.com", Server("127.0.0.1"))
Q = Pair("example.com", Server("127.0.0.2"))


def ok(mx: tuple[MxEntry, ...], ttl: int, at: float, pair: Pair = P) -> Observation:
    return Observation(pair, Status.OK, at, mx=mx, ttl=ttl, aa=True)


def test_state_matching() -> None:
    assert classify_mx(OLD, STATES) == "old"
    assert classify_mx((MxEntry(50, "MAIL.old-host.net.".lower()),), STATES) == "old", "no preference: any matches"
    assert classify_mx((MxEntry(20, "parked.new-host.net."),), STATES) == OTHER, "preference given: must match"
    assert classify_mx((MxEntry(10, "mail.new-host.net."), MxEntry(20, "backup.new-host.net.")), STATES) == "new"
    assert classify_mx((MxEntry(10, "mail.new-host.net."),), STATES) == OTHER, "half of a state is not the state"
    assert classify_mx((*OLD, *PARK), STATES) == MIXED
    assert classify_mx((*OLD, MxEntry(5, "elsewhere.net.")), STATES) == OTHER
    assert classify_mx((), STATES) == OTHER


def test_the_remembering_classifier_agrees_per_domain() -> None:
    """The same MX set means another state for a domain with records of its own; remembering what each set
    means never mixes the two, and each answer agrees with `classify`."""
    legacy = {**STATES, "old": (MxRecord("mx.legacy.org."),)}
    table = {"legacy.org": legacy}
    classifier = Classifier(lambda domain: table.get(domain, STATES))
    legacy_pair = Pair("legacy.org", Server("127.0.0.1"))
    legacy_old = (MxEntry(10, "mx.legacy.org."),)
    for _ in range(2):  # the second time from memory
        assert classifier(ok(OLD, 600, 0.0)) == "old"
        assert classifier(ok(OLD, 600, 0.0, legacy_pair)) == OTHER
        assert classifier(ok(legacy_old, 600, 0.0, legacy_pair)) == "old"
        assert classifier(ok(legacy_old, 600, 0.0)) == OTHER
        assert classifier(ok((*OLD, *PARK), 600, 0.0)) == MIXED
        assert classifier(Observation(P, Status.TIMEOUT, 0.0)) is None
    assert Classifier(lambda _domain: {})(ok(OLD, 600, 0.0)) is None


def test_failures_have_no_state() -> None:
    for status in Status:
        if status is not Status.OK:
            assert classify(Observation(P, status, 0.0), STATES) is None
    assert classify(ok(OLD, 600, 0.0), {}) is None


def test_history_records_flips_with_the_previous_ttl() -> None:
    history = History()
    view, events = history.record(ok(OLD, 3600, 1.0), "old")
    assert events == [] and view.serving_since is None and not view.changed
    _, events = history.record(ok(OLD, 600, 2.0), "old")
    assert events == []
    view, events = history.record(ok(PARK, 600, 3.0), "parking")
    assert view.changed and view.serving_since == 3.0
    (flip,) = events
    assert (flip.before, flip.after, flip.ttl, flip.previous_ttl, flip.at) == ("old", "parking", 600, 3600, 3.0)
    assert history.flips(P) == (flip,)


def test_failures_do_not_flip_but_change_status() -> None:
    history = History()
    history.record(ok(OLD, 600, 1.0), "old")
    view, events = history.record(Observation(P, Status.TIMEOUT, 2.0, detail="no answer"), None)
    assert [type(e).__name__ for e in events] == ["StatusChange"] and view.changed
    view, events = history.record(ok(OLD, 600, 3.0), "old")
    assert [type(e).__name__ for e in events] == ["StatusChange"], "back to ok, same MX: no flip"


def test_old_ttl_waits_the_largest_previous_ttl_from_the_last_flip() -> None:
    history = History()
    history.record(ok(OLD, 3600, 1.0), "old")
    history.record(ok(OLD, 900, 1.0, Q), "old")
    assert history.old_ttl("parking").ttl is None
    history.record(ok(PARK, 600, 5.0), "parking")
    assert "do not serve" in history.old_ttl("parking").detail
    history.record(ok(PARK, 600, 9.0, Q), "parking")
    result = history.old_ttl("parking")
    assert (result.ttl, result.since) == (3600, 5.0), "P stopped serving 3600 at 5.0: 3605 is the latest expiry"


def test_old_ttl_forgets_a_ttl_lowered_long_before_the_flip() -> None:
    history = History()
    history.record(ok(OLD, 3600, 0.0), "old")
    history.record(ok(OLD, 60, 10.0), "old")  # lowered: 3600-s copies expire by 3610
    history.record(ok(OLD, 60, 5000.0), "old")
    history.record(ok(PARK, 60, 5010.0), "parking")
    result = history.old_ttl("parking")
    assert (result.ttl, result.since) == (60, 5010.0)
    (flip,) = history.flips(P)
    assert flip.previous_ttl == 3600 and flip.expires == (5070.0, 60, 5010.0)


def test_old_ttl_keeps_a_ttl_lowered_just_before_the_flip() -> None:
    history = History()
    history.record(ok(OLD, 3600, 0.0), "old")
    history.record(ok(OLD, 60, 10.0), "old")
    history.record(ok(PARK, 60, 20.0), "parking")
    result = history.old_ttl("parking")
    assert (result.ttl, result.since) == (3600, 10.0)


def test_old_ttl_unknown_when_the_watch_began_after_the_flip() -> None:
    history = History()
    history.record(ok(PARK, 600, 1.0), "parking")
    result = history.old_ttl("parking")
    assert result.ttl is None and "already" in result.detail
