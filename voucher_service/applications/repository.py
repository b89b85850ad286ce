"""Every query of the applications domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from voucher_service.applications.models import (
    Application,
    ApplicationDecision,
    Attachment,
    Objection,
)
from voucher_service.applications.workflow import UNDER_REVIEW, Decision, PastDecision, State


async def lock(session: AsyncSession, application_id: uuid.UUID) -> Application:
    """The application, re-read and locked for this unit of work (the first lock taken)."""
    query = (
        select(Application)
        .where(col(Application.id) == application_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(query)).scalar_one()


def list_query(
    *,
    enterprise_id: uuid.UUID | None = None,
    program_id: uuid.UUID | None = None,
    state: State | None = None,
    stage_index: int | None = None,
) -> SelectOfScalar[Application]:
    query = select(Application)
    if enterprise_id is not None:
        query = query.where(col(Application.enterprise_id) == enterprise_id)
    if program_id is not None:
        query = query.where(col(Application.program_id) == program_id)
    if state is not None:
        query = query.where(col(Application.state) == state)
    if stage_index is not None:
        query = query.where(
            col(Application.stage_index) == stage_index,
            col(Application.state).in_([str(s) for s in UNDER_REVIEW]),
        )
    return query


async def decisions(session: AsyncSession, application_id: uuid.UUID) -> list[ApplicationDecision]:
    rows = await session.scalars(
        select(ApplicationDecision)
        .where(col(ApplicationDecision.application_id) == application_id)
        .order_by(col(ApplicationDecision.id))
    )
    return list(rows)


def past(rows: Sequence[ApplicationDecision]) -> list[PastDecision]:
    return [
        PastDecision(row.round, row.stage_index, Decision(row.decision), row.actor_id)
        for row in rows
    ]


async def attachments(
    session: AsyncSession,
    *,
    application_id: uuid.UUID | None = None,
    claim_id: uuid.UUID | None = None,
) -> list[Attachment]:
    query = select(Attachment).order_by(col(Attachment.id))
    if application_id is not None:
        query = query.where(col(Attachment.application_id) == application_id)
    if claim_id is not None:
        query = query.where(col(Attachment.claim_id) == claim_id)
    return list(await session.scalars(query))


async def objections(session: AsyncSession, application_id: uuid.UUID) -> list[Objection]:
    rows = await session.scalars(
        select(Objection)
        .where(col(Objection.application_id) == application_id)
        .order_by(col(Objection.id))
    )
    return list(rows)


def waiting_at_last_stage(
    program_id: uuid.UUID, last_index: int, now: datetime
) -> SelectOfScalar[Application]:
    """Applications of the programme at its last stage with any publicity over."""
    return select(Application).where(
        col(Application.program_id) == program_id,
        col(Application.state).in_([str(s) for s in UNDER_REVIEW]),
        col(Application.stage_index) == last_index,
        sa.or_(col(Application.publicity_until).is_(None), col(Application.publicity_until) <= now),
    )


async def earlier_waiting(
    session: AsyncSession, application: Application, last_index: int, now: datetime
) -> Application | None:
    """A waiting application of the same programme whose contract was signed earlier."""
    query = (
        waiting_at_last_stage(application.program_id, last_index, now)
        .where(
            col(Application.id) != application.id,
            col(Application.contract_signed_on) < application.contract_signed_on,
        )
        .order_by(col(Application.contract_signed_on), col(Application.id))
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


def publicity_query(now: datetime) -> SelectOfScalar[Application]:
    return select(Application).where(
        col(Application.state) == State.publicity, col(Application.publicity_until) > now
    )
