"""The enterprise's routes: draft, edit, attach, submit, withdraw, follow the review."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile, status
from fastapi.responses import FileResponse

from voucher_service.applications import files, present, repository, rules
from voucher_service.applications import service as applications
from voucher_service.applications.dependencies import (
    EnterpriseApplication,
    OwnEnterprise,
    ReadableAttachment,
)
from voucher_service.applications.errors import AttachmentMissing
from voucher_service.applications.models import Application, Attachment
from voucher_service.applications.schemas import (
    ApplicationCreate,
    ApplicationPublic,
    ApplicationSummary,
    ApplicationUpdate,
    AttachmentKind,
    AttachmentPublic,
    EligibilityPreview,
)
from voucher_service.applications.workflow import State
from voucher_service.auth.dependencies import EnterpriseUser
from voucher_service.dependencies import SessionDep, SettingsDep
from voucher_service.idempotency import IdempotentRoute
from voucher_service.kit.pagination import Page, PageParamsDep, paginate
from voucher_service.kit.problems import problem_responses
from voucher_service.programs import service as programs

router = APIRouter(tags=["applications"], route_class=IdempotentRoute)
RULES = problem_responses(401, 403, 404, 409, 422)


@router.post(
    "/v1/applications",
    summary="Draft an application for an open programme",
    status_code=status.HTTP_201_CREATED,
    responses=RULES,
)
async def create_application(
    body: ApplicationCreate,
    principal: EnterpriseUser,
    enterprise: OwnEnterprise,
    session: SessionDep,
) -> ApplicationPublic:
    application = await applications.create(session, body, actor=principal, enterprise=enterprise)
    return await present.for_enterprise(session, application)


@router.get("/v1/applications", summary="My enterprise's applications", responses=RULES)
async def list_applications(
    principal: EnterpriseUser,
    session: SessionDep,
    page: PageParamsDep,
    program: Annotated[uuid.UUID | None, Query()] = None,
    state: Annotated[State | None, Query()] = None,
) -> Page[ApplicationSummary]:
    query = repository.list_query(
        enterprise_id=principal.organisation_id, program_id=program, state=state
    )
    rows, cursor = await paginate(session, query, Application.id, page)  # type: ignore[arg-type]
    return Page[ApplicationSummary](
        items=await present.summaries(session, rows), next_cursor=cursor
    )


@router.get(
    "/v1/applications/{application_id}",
    summary="One application, with its attachments, timeline and reviewers' comments",
    responses=problem_responses(401, 403, 404),
)
async def get_application(
    application: EnterpriseApplication, session: SessionDep
) -> ApplicationPublic:
    return await present.for_enterprise(session, application)


@router.patch(
    "/v1/applications/{application_id}",
    summary="Change a draft or returned application",
    responses=RULES,
)
async def update_application(
    body: ApplicationUpdate,
    application: EnterpriseApplication,
    principal: EnterpriseUser,
    enterprise: OwnEnterprise,
    session: SessionDep,
) -> ApplicationPublic:
    application = await applications.update(
        session, application, body, actor=principal, enterprise=enterprise
    )
    return await present.for_enterprise(session, application)


@router.get(
    "/v1/applications/{application_id}/eligibility",
    summary="The eligible amount under the programme's rules today, with its working",
    responses=RULES,
)
async def preview_eligibility(
    application: EnterpriseApplication, enterprise: OwnEnterprise, session: SessionDep
) -> EligibilityPreview:
    program = await programs.get_program(session, application.program_id)
    result, awarded = await rules.compute(session, program, application, enterprise)
    return EligibilityPreview(
        eligible_amount=result.eligible_amount, working=rules.working(result, awarded)
    )


@router.post(
    "/v1/applications/{application_id}/attachments",
    summary="Attach a file (PDF, PNG or JPEG, checked by content)",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 409, 413, 415, 422),
)
async def add_attachment(
    application: EnterpriseApplication,
    principal: EnterpriseUser,
    session: SessionDep,
    settings: SettingsDep,
    kind: Annotated[AttachmentKind, Form()],
    file: Annotated[UploadFile | None, File()] = None,
) -> AttachmentPublic:
    if file is None:
        raise AttachmentMissing(
            "Send the file in the multipart field 'file'.",
            detail_zh="请在 multipart 字段 file 中上传文件。",
        )
    content = await file.read(settings.attachment_max_bytes + 1)
    attachment = await applications.add_attachment(
        session,
        application,
        kind=kind,
        name=file.filename or "",
        content=content,
        actor=principal,
        data_dir=settings.data_dir,
        max_bytes=settings.attachment_max_bytes,
    )
    return AttachmentPublic.model_validate(attachment)


@router.get(
    "/v1/applications/{application_id}/attachments/{attachment_id}",
    summary="Download an attachment (the owner enterprise and the authority only)",
    response_class=FileResponse,
    responses=problem_responses(401, 403, 404),
)
async def download_attachment(
    attachment: ReadableAttachment, settings: SettingsDep
) -> FileResponse:
    return serve(attachment, settings.data_dir)


def serve(attachment: Attachment, data_dir: Path) -> FileResponse:
    """The stored file, as a download that browsers must not sniff or cache."""
    path = files.blob_path(applications.attachment_root(data_dir), attachment.sha256)
    return FileResponse(
        path,
        media_type=attachment.content_type,
        filename=attachment.name,
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"},
    )


@router.post(
    "/v1/applications/{application_id}/submit",
    summary="Submit (or resubmit) for review: every rule is checked",
    responses=RULES,
)
async def submit_application(
    application: EnterpriseApplication,
    principal: EnterpriseUser,
    enterprise: OwnEnterprise,
    session: SessionDep,
) -> ApplicationPublic:
    application = await applications.submit(
        session, application, actor=principal, enterprise=enterprise
    )
    return await present.for_enterprise(session, application)


@router.post(
    "/v1/applications/{application_id}/withdraw",
    summary="Withdraw the application (until a final decision)",
    responses=problem_responses(401, 403, 404, 409),
)
async def withdraw_application(
    application: EnterpriseApplication, principal: EnterpriseUser, session: SessionDep
) -> ApplicationPublic:
    application = await applications.withdraw(session, application, actor=principal)
    return await present.for_enterprise(session, application)
