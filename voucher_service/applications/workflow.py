"""The review workflow as pure code: states, stages and who may decide what, without a database.

``draft → submitted → in_review(stage) → publicity → approved | rejected``, plus ``returned``
(back to the applicant, who edits and resubmits: the next round starts at the first stage again)
and ``withdrawn``. ``submitted`` means waiting in the first stage's queue; each approval moves
the application to the next stage (``publicity`` for a publicity stage, listed publicly for its
days, ``in_review`` otherwise). An approval at the last stage is the **final approval**: it
issues the voucher. A publicity stage can be approved only once its days are over.

Four-eyes: the final approval cannot be made by whoever made the previous decision of the
round; an award above the programme's threshold needs two distinct approvers at the last stage
(the first approval is recorded, the second issues).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from voucher_service.applications.errors import (
    ApplicationStateConflict,
    FourEyesRequired,
    PublicityInProgress,
)
from voucher_service.programs.models import StageKind


class State(StrEnum):
    draft = "draft"
    submitted = "submitted"
    in_review = "in_review"
    publicity = "publicity"
    approved = "approved"
    rejected = "rejected"
    returned = "returned"
    withdrawn = "withdrawn"


class Decision(StrEnum):
    approve = "approve"
    reject = "reject"
    return_ = "return"


EDITABLE = frozenset({State.draft, State.returned})
UNDER_REVIEW = frozenset({State.submitted, State.in_review, State.publicity})
WITHDRAWABLE = EDITABLE | UNDER_REVIEW
#: A programme without configured stages still has one: the final approval.
IMPLICIT_STAGE: dict[str, Any] = {"name": "approval", "kind": "review", "days": 0}


@dataclass(frozen=True)
class Stage:
    name: str
    kind: StageKind
    days: int = 0


@dataclass(frozen=True)
class Position:
    """Where an application stands: its state, stage, and the end of its publicity."""

    state: State
    stage_index: int = 0
    publicity_until: datetime | None = None


@dataclass(frozen=True)
class PastDecision:
    round: int
    stage_index: int
    decision: Decision
    actor_id: uuid.UUID


class Next(StrEnum):
    """What an accepted decision leads to."""

    move = "move"  # to another position (next stage, returned, rejected)
    first_of_two = "first_of_two"  # recorded; a second approver must confirm
    issue = "issue"  # final approval: issue the voucher, then ``approved``


@dataclass(frozen=True)
class Verdict:
    next: Next
    position: Position


def stages_of(configured: Sequence[dict[str, Any]] | None) -> tuple[Stage, ...]:
    """The programme's stages from its JSON list (the implicit approval stage when empty)."""
    items = list(configured or ()) or [IMPLICIT_STAGE]
    return tuple(
        Stage(str(item["name"]), StageKind(item.get("kind", "review")), int(item.get("days", 0)))
        for item in items
    )


def _conflict(state: State, action: str) -> ApplicationStateConflict:
    return ApplicationStateConflict(
        f"An application that is {state} cannot be {action}.",
        detail_zh=f"状态为 {state} 的申请不能{action_zh(action)}。",
        state=str(state),
    )


def action_zh(action: str) -> str:
    return {
        "edited": "修改",
        "submitted": "提交",
        "withdrawn": "撤回",
        "decided": "审核",
    }.get(action, action)


def require_editable(state: State) -> None:
    """Only drafts and returned applications can be edited or given attachments."""
    if state not in EDITABLE:
        raise _conflict(state, "edited")


def enter(stages: Sequence[Stage], index: int, now: datetime, *, first: bool = False) -> Position:
    """The position on entering stage ``index`` at ``now``."""
    stage = stages[index]
    if stage.kind == StageKind.publicity:
        return Position(State.publicity, index, now + timedelta(days=stage.days))
    return Position(State.submitted if first else State.in_review, index)


def submit(state: State, stages: Sequence[Stage], now: datetime) -> Position:
    """Submitting (or resubmitting) starts a round at the first stage."""
    if state not in EDITABLE:
        raise _conflict(state, "submitted")
    return enter(stages, 0, now, first=True)


def withdraw(state: State) -> Position:
    """The applicant may withdraw until a final decision."""
    if state not in WITHDRAWABLE:
        raise _conflict(state, "withdrawn")
    return Position(State.withdrawn)


def is_last(stages: Sequence[Stage], index: int) -> bool:
    return index == len(stages) - 1


def ready_for_final(stages: Sequence[Stage], position: Position, now: datetime) -> bool:
    """At the last stage, with any publicity over: the final approval may be made."""
    if position.state not in UNDER_REVIEW or not is_last(stages, position.stage_index):
        return False
    return position.publicity_until is None or position.publicity_until <= now


def decide(
    stages: Sequence[Stage],
    position: Position,
    decision: Decision,
    *,
    actor_id: uuid.UUID,
    history: Sequence[PastDecision],
    round_: int,
    now: datetime,
    needs_two_approvers: bool,
) -> Verdict:
    """Where ``decision`` by ``actor_id`` leads, or the problem refusing it."""
    if position.state not in UNDER_REVIEW:
        raise _conflict(position.state, "decided")
    if decision == Decision.reject:
        return Verdict(Next.move, Position(State.rejected, position.stage_index))
    if decision == Decision.return_:
        return Verdict(Next.move, Position(State.returned, 0))
    if position.publicity_until is not None and now < position.publicity_until:
        raise PublicityInProgress(
            f"The award is in publicity until {position.publicity_until.isoformat()}.",
            detail_zh=f"公示期至 {position.publicity_until.isoformat()}。",
            publicity_until=position.publicity_until.isoformat(),
        )
    if not is_last(stages, position.stage_index):
        return Verdict(Next.move, enter(stages, position.stage_index + 1, now))
    return _final(position, actor_id, history, round_, needs_two_approvers)


def _final(
    position: Position,
    actor_id: uuid.UUID,
    history: Sequence[PastDecision],
    round_: int,
    needs_two_approvers: bool,
) -> Verdict:
    this_round = [past for past in history if past.round == round_]
    if this_round and this_round[-1].actor_id == actor_id:
        raise FourEyesRequired(
            "The final approval must be made by someone other than the previous decision's maker.",
            detail_zh="终审批准须由上一审核人以外的人作出。",
        )
    if needs_two_approvers:
        approvals = [
            past
            for past in this_round
            if past.stage_index == position.stage_index and past.decision == Decision.approve
        ]
        if not approvals:
            return Verdict(Next.first_of_two, position)
    return Verdict(Next.issue, Position(State.approved, position.stage_index))
