"""Gates, confirmations, skips, retries, countdown controls and stopping, on a fake clock without network."""

from __future__ import annotations

import socket
from collections.abc import Callable

from cockpit.engine.events import CountdownSet, Decision, RunFinished
from cockpit.engine.prompts import PromptKind
from cockpit.engine.states import StepState
from tests.unit.engine.conftest import Harness


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_step_mode_gates_every_step_and_confirm_steps_ask_once(harness: Callable[..., Harness]) -> None:
    h = harness("      - confirm: Do the manual thing\n      - countdown: 5s\n")
    h.start()
    await h.waiting("p-1", StepState.AWAITING_CONFIRMATION)
    assert h.run.prompt is not None and h.run.prompt.kind == PromptKind.CONFIRM
    assert h.run.go().ok
    await h.waiting("p-2", StepState.READY)
    assert h.run.prompt is not None and h.run.prompt.kind == PromptKind.GATE
    assert h.run.go().ok
    await h.until(lambda: h.run.steps["p-2"].state == StepState.DONE, advance=1.0)
    assert await h.finish() == 0
    assert h.recorder.states("p-1") == ["awaiting-confirmation", "done"]
    assert h.recorder.states("p-2")[:2] == ["ready", "running"]
    assert h.recorder.states("p-2")[-1] == "done"
    assert [d.action for d in h.recorder.of(Decision)] == ["go", "go"]  # type: ignore[attr-defined]


async def test_auto_mode_runs_read_only_steps_without_asking(harness: Callable[..., Harness]) -> None:
    h = harness("      - countdown: 3s\n      - countdown: 2s\n", mode="auto")
    h.start()
    await h.until(lambda: h.task is not None and h.task.done(), advance=1.0)
    assert await h.finish() == 0
    assert h.recorder.of(Decision) == []


async def test_skip_needs_a_reason_and_records_it(harness: Callable[..., Harness]) -> None:
    h = harness("      - confirm: A\n      - confirm: B\n")
    h.start()
    await h.waiting("p-1", StepState.AWAITING_CONFIRMATION)
    assert not h.run.skip("  ").ok
    assert h.run.skip("done by hand yesterday").ok
    await h.waiting("p-2", StepState.AWAITING_CONFIRMATION)
    assert h.run.steps["p-1"].state == StepState.SKIPPED
    assert h.run.steps["p-1"].detail == "done by hand yesterday"
    h.run.go()
    assert await h.finish() == 0


async def test_wrong_answer_is_refused_with_a_message(harness: Callable[..., Harness]) -> None:
    h = harness("      - confirm: A\n")
    assert h.run.go().message == "nothing is waiting for an answer"
    h.start()
    await h.waiting("p-1", StepState.AWAITING_CONFIRMATION)
    result = h.run.retry()
    assert not result.ok and result.message == "step p-1 waits for go or skip, not retry"
    h.run.go()
    assert await h.finish() == 0


async def test_failure_retries_with_backoff_then_asks(harness: Callable[..., Harness]) -> None:
    port = closed_port()
    h = harness(f"      - port: {{address: 127.0.0.1, port: {port}, expect: open}}\n        retries: 2\n", mode="auto")
    h.start()
    await h.until(lambda: h.run.prompt is not None, advance=1.0)
    assert h.run.prompt is not None and h.run.prompt.kind == PromptKind.FAILED
    status = h.run.steps["p-1"]
    assert status.attempt == 3
    assert status.detail == f"127.0.0.1 port {port} is refused, expected open"
    details = [e.detail for e in h.recorder.events if getattr(e, "state", None) == StepState.PENDING]
    assert any("retry 1 of 2 in 2s" in d for d in details) and any("retry 2 of 2 in 4s" in d for d in details)
    assert h.run.skip("port opens later").ok
    assert await h.finish() == 0


async def test_manual_retry_after_failure(harness: Callable[..., Harness]) -> None:
    port = closed_port()
    h = harness(f"      - port: {{address: 127.0.0.1, port: {port}, expect: open}}\n", mode="auto")
    h.start()
    await h.until(lambda: h.run.prompt is not None and h.run.prompt.kind == PromptKind.FAILED)
    listener = socket.socket()
    listener.bind(("127.0.0.1", port))
    listener.listen()
    try:
        assert h.run.go().message == "retry: p-1"  # Enter on a failed step retries it
        assert await h.finish() == 0
    finally:
        listener.close()
    assert h.run.steps["p-1"].state == StepState.DONE
    assert h.run.steps["p-1"].attempt == 2


async def test_yes_stops_the_run_on_failure(harness: Callable[..., Harness]) -> None:
    h = harness(f"      - port: {{address: 127.0.0.1, port: {closed_port()}, expect: open}}\n", yes=True)
    h.start()
    assert await h.finish() == 1
    finished = h.recorder.of(RunFinished)
    assert [(f.outcome, f.exit_code) for f in finished] == [("failed", 1)]  # type: ignore[attr-defined]


async def test_countdown_pause_resume_extend(harness: Callable[..., Harness]) -> None:
    h = harness("      - countdown: 10s\n", mode="auto")
    h.start()
    await h.until(lambda: h.run.countdown() is not None)
    await h.clock.advance(4)
    assert h.run.pause_or_resume().message == "countdown paused"
    await h.clock.advance(100)
    assert h.run.steps["p-1"].state == StepState.COUNTING_DOWN
    assert h.run.pause_or_resume().message == "countdown resumed"
    assert h.run.extend(60).ok
    await h.clock.advance(65)
    assert h.run.steps["p-1"].state == StepState.COUNTING_DOWN
    await h.until(lambda: h.task is not None and h.task.done(), advance=1.0)
    sets = h.recorder.of(CountdownSet)
    assert [s.paused_remaining for s in sets] == [None, 6.0, None, None]  # type: ignore[attr-defined]
    assert sets[-1].total == 70.0  # type: ignore[attr-defined]
    assert h.run.steps["p-1"].detail == "waited 1m10s: 10s as planned"


async def test_countdown_commands_without_a_countdown(harness: Callable[..., Harness]) -> None:
    h = harness("      - confirm: A\n")
    assert h.run.pause_or_resume().message == "no countdown is running"
    assert h.run.extend().message == "no countdown is running"
    assert h.run.abort().message == "no step is running"


async def test_abort_fails_the_running_step(harness: Callable[..., Harness]) -> None:
    h = harness("      - countdown: 1h\n", mode="auto")
    h.start()
    await h.until(lambda: h.run.countdown() is not None)
    assert h.run.abort().ok
    await h.until(lambda: h.run.prompt is not None)
    assert h.run.steps["p-1"].state == StepState.FAILED
    assert h.run.steps["p-1"].detail == "aborted by the operator"
    h.run.skip("not needed")
    assert await h.finish() == 0


async def test_step_timeout_fails_the_step(harness: Callable[..., Harness]) -> None:
    h = harness("      - countdown: 1h\n        timeout: 30s\n", mode="auto")
    h.start()
    await h.until(lambda: h.run.prompt is not None, advance=5.0)
    assert h.run.steps["p-1"].detail == "Wait 1h timed out after 30s"


async def test_stop_ends_the_run_with_the_given_code(harness: Callable[..., Harness]) -> None:
    h = harness("      - confirm: A\n")
    h.start()
    await h.waiting("p-1", StepState.AWAITING_CONFIRMATION)
    h.run.stop("stopped", 129)
    assert await h.finish() == 129


async def test_stop_during_a_running_step(harness: Callable[..., Harness]) -> None:
    h = harness("      - countdown: 1h\n", mode="auto")
    h.start()
    await h.until(lambda: h.run.countdown() is not None)
    h.run.stop("stopped", 143)
    assert await h.finish() == 143
    assert h.run.steps["p-1"].state == StepState.COUNTING_DOWN  # left as it was: resumable


async def test_interrupted_step_needs_a_decision(harness: Callable[..., Harness]) -> None:
    initial = {"p-1": (StepState.INTERRUPTED, 1, "outcome unknown")}
    h = harness("      - countdown: 1s\n      - confirm: B\n", initial=initial)
    h.start()
    await h.waiting("p-1", StepState.INTERRUPTED)
    assert not h.run.go().ok
    assert h.run.decide("mark-done").ok
    await h.waiting("p-2", StepState.AWAITING_CONFIRMATION)
    assert h.run.steps["p-1"].state == StepState.DONE
    h.run.go()
    assert await h.finish() == 0


async def test_yes_reruns_only_idempotent_interrupted_steps(harness: Callable[..., Harness]) -> None:
    initial = {"p-1": (StepState.INTERRUPTED, 1, "")}
    h = harness("      - countdown: 1s\n", initial=initial, yes=True)
    h.start()
    assert await h.finish() == 1
    notices = [e.text for e in h.recorder.events if type(e).__name__ == "Notice"]  # type: ignore[attr-defined]
    assert notices == [
        "step p-1 was interrupted and is not marked idempotent: decide with --decide p-1=rerun|done|skip"
    ]


async def test_decide_option_answers_interrupted_steps(harness: Callable[..., Harness]) -> None:
    initial = {"p-1": (StepState.INTERRUPTED, 1, "")}
    h = harness("      - countdown: 1s\n", initial=initial, yes=True, decisions={"p-1": "skip"})
    h.start()
    assert await h.finish() == 0
    assert h.run.steps["p-1"].state == StepState.SKIPPED


async def test_done_steps_never_run_again(harness: Callable[..., Harness]) -> None:
    initial = {"p-1": (StepState.DONE, 1, "earlier")}
    h = harness("      - confirm: A\n      - countdown: 1s\n", initial=initial, mode="auto")
    h.start()
    await h.until(lambda: h.task is not None and h.task.done(), advance=1.0)
    assert h.recorder.states("p-1") == []


async def test_dry_run_shows_what_would_run_and_changes_nothing(harness: Callable[..., Harness]) -> None:
    h = harness("      - ssh: {host: h, run: rm -rf /srv/mail}\n", mode="auto", dry_run=True)
    h.start()
    assert await h.finish() == 0
    assert h.run.steps["p-1"].detail == "dry run: would h: rm -rf /srv/mail"
    assert [type(e).__name__ for e in h.recorder.events].count("StepIntent") == 0
