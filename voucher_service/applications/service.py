"""The applicant's side: draft, edit, attach files, submit, withdraw; and the eligibility preview.

Functions take the session first, flush and never commit; each change is audited.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ledger.sqltypes import utcnow
from voucher_service.applications import files, repository, rules
from voucher_service.applications import workflow as wf
from voucher_service.applications.errors import ContractAlreadyClaimed, ContractOutsideWindow
from voucher_service.applications.models import Application, Attachment
from voucher_service.applications.schemas import ApplicationCreate, ApplicationUpdate
from voucher_service.audit import service as audit
from voucher_service.auth.principal import Principal
from voucher_service.organisations.models import Organisation
from voucher_service.programs import service as programs
from voucher_service.programs.models import Program


def attachment_root(data_dir: Path) -> Path:
    return data_dir / "attachments"


def _claimed() -> ContractAlreadyClaimed:
    return ContractAlreadyClaimed(
        "An application for this contract with this provider already exists in this programme.",
        detail_zh="本项目中已有该服务商此合同的申请。",
    )


async def _check_unclaimed(session: AsyncSession, application: Application) -> None:
    found = await session.scalar(
        select(Application.id).where(
            col(Application.program_id) == application.program_id,
            col(Application.provider_id) == application.provider_id,
            col(Application.contract_number) == application.contract_number,
            col(Application.id) != application.id,
        )
    )
    if found is not None:
        raise _claimed()


async def _flush_unique(session: AsyncSession) -> None:
    """Flush; a concurrent application for the same contract loses on the unique constraint."""
    try:
        await session.flush()
    except IntegrityError as exc:
        if "contract" in str(exc.orig).lower():
            raise _claimed() from exc
        raise


async def refresh_eligibility(
    session: AsyncSession, program: Program, application: Application, enterprise: Organisation
) -> None:
    """Store the eligible amount as the rules give it today, with its working."""
    result, awarded = await rules.compute(session, program, application, enterprise)
    application.eligible_amount = result.eligible_amount
    application.eligibility = rules.working(result, awarded)


async def create(
    session: AsyncSession, body: ApplicationCreate, *, actor: Principal, enterprise: Organisation
) -> Application:
    """A new draft for an open programme and one of its providers."""
    program = await programs.get_program(session, body.program_id)
    rules.check_window(program)
    application = Application(
        **body.model_dump(),
        enterprise_id=enterprise.id,
        created_by=actor.id,
        state=wf.State.draft,
    )
    await rules.check_provider(session, program, application)
    await _check_unclaimed(session, application)
    await refresh_eligibility(session, program, application, enterprise)
    session.add(application)
    await _flush_unique(session)
    await audit.record(
        session,
        action="application.created",
        actor=actor,
        target=("application", application.id),
        after=summary(application),
    )
    return application


async def update(
    session: AsyncSession,
    application: Application,
    body: ApplicationUpdate,
    *,
    actor: Principal,
    enterprise: Organisation,
) -> Application:
    """Change a draft or returned application; the eligible amount is computed again."""
    application = await repository.lock(session, application.id)
    wf.require_editable(wf.State(application.state))
    changes = body.model_dump(exclude_unset=True)
    before = {name: getattr(application, name) for name in changes}
    for name, value in changes.items():
        setattr(application, name, value)
    if application.contract_ends_on <= application.contract_starts_on:
        raise ContractOutsideWindow(
            "The contract must end after it starts.", detail_zh="合同结束日期须晚于开始日期。"
        )
    program = await programs.get_program(session, application.program_id)
    if "provider_id" in changes:
        await rules.check_provider(session, program, application)
    await _check_unclaimed(session, application)
    await refresh_eligibility(session, program, application, enterprise)
    application.updated_at = utcnow()
    await _flush_unique(session)
    await audit.record(
        session,
        action="application.updated",
        actor=actor,
        target=("application", application.id),
        before=before,
        after=changes,
    )
    return application


async def add_attachment(
    session: AsyncSession,
    application: Application,
    *,
    kind: str,
    name: str,
    content: bytes,
    actor: Principal,
    data_dir: Path,
    max_bytes: int,
) -> Attachment:
    """Check the file (before anything is stored), store it by digest, and record it."""
    application = await repository.lock(session, application.id)
    wf.require_editable(wf.State(application.state))
    checked = files.check(name, content, max_bytes=max_bytes)
    files.store(attachment_root(data_dir), checked, content)
    attachment = Attachment(
        organisation_id=application.enterprise_id,
        application_id=application.id,
        kind=kind,
        name=checked.name,
        content_type=checked.content_type,
        size_bytes=checked.size,
        sha256=checked.sha256,
        uploaded_by=actor.id,
    )
    session.add(attachment)
    await session.flush()
    await audit.record(
        session,
        action="application.attachment_added",
        actor=actor,
        target=("application", application.id),
        after={
            "attachment_id": str(attachment.id),
            "kind": kind,
            "sha256": checked.sha256,
            "size_bytes": checked.size,
            "content_type": checked.content_type,
        },
    )
    return attachment


async def submit(
    session: AsyncSession, application: Application, *, actor: Principal, enterprise: Organisation
) -> Application:
    """Check every rule and start a round of review at the first stage."""
    application = await repository.lock(session, application.id)
    state = wf.State(application.state)
    wf.require_editable(state)
    program = await programs.get_program(session, application.program_id)
    kinds = {
        row.kind for row in await repository.attachments(session, application_id=application.id)
    }
    result, awarded = await rules.at_submission(session, program, application, enterprise, kinds)
    now = utcnow()
    position = wf.submit(state, wf.stages_of(program.review_stages), now)
    application.eligible_amount = result.eligible_amount
    application.eligibility = rules.working(result, awarded)
    _move(application, position)
    application.round += 1
    application.submitted_at = now
    application.updated_at = now
    await session.flush()
    await audit.record(
        session,
        action="application.submitted",
        actor=actor,
        target=("application", application.id),
        before={"state": state},
        after={
            "state": application.state,
            "round": application.round,
            "eligible_amount": application.eligible_amount,
        },
    )
    return application


async def withdraw(
    session: AsyncSession, application: Application, *, actor: Principal
) -> Application:
    """The applicant takes the application back (until a final decision)."""
    application = await repository.lock(session, application.id)
    state = wf.State(application.state)
    _move(application, wf.withdraw(state))
    application.updated_at = application.decided_at = utcnow()
    await session.flush()
    await audit.record(
        session,
        action="application.withdrawn",
        actor=actor,
        target=("application", application.id),
        before={"state": state},
        after={"state": application.state},
    )
    return application


def _move(application: Application, position: wf.Position) -> None:
    application.state = position.state
    application.stage_index = position.stage_index
    application.publicity_until = position.publicity_until


def summary(application: Application) -> dict[str, Any]:
    """What audit events say about an application."""
    return {
        "program_id": str(application.program_id),
        "provider_id": str(application.provider_id),
        "contract_number": application.contract_number,
        "contract_amount": application.contract_amount,
        "state": application.state,
        "eligible_amount": application.eligible_amount,
    }


async def get_attachment(
    session: AsyncSession, application: Application, attachment_id: uuid.UUID
) -> Attachment | None:
    attachment = await session.get(Attachment, attachment_id)
    if attachment is None or attachment.application_id != application.id:
        return None
    return attachment
