"""Response shapes built from the tables, for the applicant and for reviewers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from voucher_service.applications import repository
from voucher_service.applications import workflow as wf
from voucher_service.applications.models import Application
from voucher_service.applications.schemas import (
    ApplicationAdmin,
    ApplicationPublic,
    ApplicationSummary,
    AttachmentPublic,
    ObjectionAdmin,
    TimelineEntry,
    TimelineEntryAdmin,
)
from voucher_service.programs import service as programs


def stage_name(stages: Sequence[wf.Stage], application: Application) -> str | None:
    if application.state not in wf.UNDER_REVIEW:
        return None
    index = application.stage_index
    return stages[index].name if index < len(stages) else None


async def _stages(session: AsyncSession, application: Application) -> tuple[wf.Stage, ...]:
    program = await programs.get_program(session, application.program_id)
    return wf.stages_of(program.review_stages)


async def summaries(session: AsyncSession, rows: Sequence[Application]) -> list[ApplicationSummary]:
    cache: dict[object, tuple[wf.Stage, ...]] = {}
    items = []
    for row in rows:
        if row.program_id not in cache:
            cache[row.program_id] = await _stages(session, row)
        item = ApplicationSummary.model_validate(row)
        items.append(item.model_copy(update={"stage_name": stage_name(cache[row.program_id], row)}))
    return items


async def for_enterprise(session: AsyncSession, application: Application) -> ApplicationPublic:
    stages = await _stages(session, application)
    decisions = await repository.decisions(session, application.id)
    attachments = await repository.attachments(session, application_id=application.id)
    base = ApplicationPublic.model_validate(application)
    return base.model_copy(
        update={
            "stage_name": stage_name(stages, application),
            "attachments": [AttachmentPublic.model_validate(row) for row in attachments],
            "timeline": [
                TimelineEntry.model_validate(row, from_attributes=True) for row in decisions
            ],
        }
    )


async def for_authority(
    session: AsyncSession, application: Application, now: datetime
) -> ApplicationAdmin:
    stages = await _stages(session, application)
    decisions = await repository.decisions(session, application.id)
    attachments = await repository.attachments(session, application_id=application.id)
    objections = await repository.objections(session, application.id)
    position = wf.Position(
        wf.State(application.state), application.stage_index, application.publicity_until
    )
    base = ApplicationAdmin.model_validate(application)
    return base.model_copy(
        update={
            "stage_name": stage_name(stages, application),
            "attachments": [AttachmentPublic.model_validate(row) for row in attachments],
            "timeline": [
                TimelineEntryAdmin.model_validate(row, from_attributes=True) for row in decisions
            ],
            "objections": [ObjectionAdmin.model_validate(row) for row in objections],
            "ready_for_final": wf.ready_for_final(stages, position, now),
        }
    )
