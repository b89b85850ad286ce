"""The review workflow as pure code: stages in order, publicity, returns, four-eyes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from voucher_service.applications import workflow as wf
from voucher_service.applications.errors import (
    ApplicationStateConflict,
    FourEyesRequired,
    PublicityInProgress,
)

NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)
STAGES = wf.stages_of(
    [
        {"name": "preliminary", "kind": "review", "days": 0},
        {"name": "expert", "kind": "review", "days": 0},
        {"name": "publicity", "kind": "publicity", "days": 5},
    ]
)
ALICE, BOB, CAROL = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def decide(
    position: wf.Position,
    decision: wf.Decision,
    actor: uuid.UUID,
    history: list[wf.PastDecision],
    *,
    now: datetime = NOW,
    two: bool = False,
    round_: int = 1,
) -> wf.Verdict:
    verdict = wf.decide(
        STAGES,
        position,
        decision,
        actor_id=actor,
        history=history,
        round_=round_,
        now=now,
        needs_two_approvers=two,
    )
    history.append(wf.PastDecision(round_, position.stage_index, decision, actor))
    return verdict


def test_happy_path_through_every_stage() -> None:
    history: list[wf.PastDecision] = []
    position = wf.submit(wf.State.draft, STAGES, NOW)
    assert position == wf.Position(wf.State.submitted, 0)
    position = decide(position, wf.Decision.approve, ALICE, history).position
    assert position == wf.Position(wf.State.in_review, 1)
    position = decide(position, wf.Decision.approve, BOB, history).position
    assert position == wf.Position(wf.State.publicity, 2, NOW + timedelta(days=5))
    assert not wf.ready_for_final(STAGES, position, NOW + timedelta(days=4))
    with pytest.raises(PublicityInProgress):
        decide(position, wf.Decision.approve, ALICE, history[:], now=NOW + timedelta(days=4))
    later = NOW + timedelta(days=5)
    assert wf.ready_for_final(STAGES, position, later)
    verdict = decide(position, wf.Decision.approve, ALICE, history, now=later)
    assert verdict.next == wf.Next.issue
    assert verdict.position.state == wf.State.approved


def test_final_approval_needs_someone_else_than_the_previous_decision() -> None:
    history = [
        wf.PastDecision(1, 0, wf.Decision.approve, ALICE),
        wf.PastDecision(1, 1, wf.Decision.approve, BOB),
    ]
    publicity = wf.Position(wf.State.publicity, 2, NOW - timedelta(days=1))
    with pytest.raises(FourEyesRequired):
        decide(publicity, wf.Decision.approve, BOB, history)
    # An earlier round's decisions do not count.
    assert decide(publicity, wf.Decision.approve, BOB, list(history[:1]), round_=2).next == (
        wf.Next.issue
    )


def test_two_distinct_approvers_above_the_threshold() -> None:
    history = [wf.PastDecision(1, 1, wf.Decision.approve, ALICE)]
    publicity = wf.Position(wf.State.publicity, 2, NOW)
    first = decide(publicity, wf.Decision.approve, BOB, history, two=True)
    assert first.next == wf.Next.first_of_two
    assert first.position == publicity
    with pytest.raises(FourEyesRequired):
        decide(publicity, wf.Decision.approve, BOB, history[:], two=True)
    second = decide(publicity, wf.Decision.approve, CAROL, history, two=True)
    assert second.next == wf.Next.issue


def test_reject_and_return_at_any_stage_even_during_publicity() -> None:
    publicity = wf.Position(wf.State.publicity, 2, NOW + timedelta(days=3))
    assert decide(publicity, wf.Decision.reject, ALICE, []).position.state == wf.State.rejected
    returned = decide(publicity, wf.Decision.return_, ALICE, []).position
    assert returned == wf.Position(wf.State.returned, 0)
    assert wf.submit(returned.state, STAGES, NOW) == wf.Position(wf.State.submitted, 0)


@pytest.mark.parametrize(
    "state",
    [wf.State.approved, wf.State.rejected, wf.State.withdrawn, wf.State.draft, wf.State.returned],
)
def test_no_decision_outside_review(state: wf.State) -> None:
    with pytest.raises(ApplicationStateConflict):
        decide(wf.Position(state), wf.Decision.approve, ALICE, [])


def test_editing_submitting_withdrawing_by_state() -> None:
    for state in wf.State:
        editable = state in (wf.State.draft, wf.State.returned)
        if editable:
            wf.require_editable(state)
        else:
            with pytest.raises(ApplicationStateConflict):
                wf.require_editable(state)
            with pytest.raises(ApplicationStateConflict):
                wf.submit(state, STAGES, NOW)
    assert wf.withdraw(wf.State.publicity).state == wf.State.withdrawn
    for final in (wf.State.approved, wf.State.rejected, wf.State.withdrawn):
        with pytest.raises(ApplicationStateConflict):
            wf.withdraw(final)


def test_first_stage_can_be_publicity_and_no_stages_means_one_approval() -> None:
    stages = wf.stages_of([{"name": "公示", "kind": "publicity", "days": 7}])
    assert wf.submit(wf.State.draft, stages, NOW) == wf.Position(
        wf.State.publicity, 0, NOW + timedelta(days=7)
    )
    implicit = wf.stages_of([])
    assert [stage.name for stage in implicit] == ["approval"]
    verdict = wf.decide(
        implicit,
        wf.Position(wf.State.submitted),
        wf.Decision.approve,
        actor_id=ALICE,
        history=[],
        round_=1,
        now=NOW,
        needs_two_approvers=False,
    )
    assert verdict.next == wf.Next.issue
