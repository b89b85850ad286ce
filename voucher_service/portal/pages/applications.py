"""The startup's applications: the list, one application with its review, and the last two
steps of the guided form (attachments, review and submit), through the API's services."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import FileResponse
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from starlette.datastructures import UploadFile
from starlette.responses import Response

from voucher_service.applications import files, present, repository, rules
from voucher_service.applications import service as applications
from voucher_service.applications.dependencies import (
    EnterpriseApplication,
    OwnEnterprise,
    ReadableAttachment,
)
from voucher_service.applications.models import Application
from voucher_service.applications.workflow import EDITABLE, WITHDRAWABLE, State
from voucher_service.auth.dependencies import EnterpriseUser
from voucher_service.dependencies import SessionDep, SettingsDep
from voucher_service.organisations.models import Organisation
from voucher_service.portal import forms, labels, rules_text
from voucher_service.portal.flash import Flash
from voucher_service.portal.forms import Form
from voucher_service.portal.i18n import N_, translate
from voucher_service.portal.pages.apply import APPLICATIONS, step_url, wizard
from voucher_service.portal.routing import portal_router
from voucher_service.portal.templating import portal_language, redirect, render
from voucher_service.programs import service as programs

router = portal_router("/enterprise")
ATTACHMENT_KINDS = ("contract", "business_licence", "other")


async def names_of(session: AsyncSession, ids: set[Any]) -> dict[Any, str]:
    """Organisation names by id (programme names come with the programme)."""
    if not ids:
        return {}
    rows = await session.execute(
        select(Organisation.id, Organisation.name).where(col(Organisation.id).in_(ids))
    )
    return {row[0]: row[1] for row in rows}


@router.get("/applications")
async def application_list(
    request: Request,
    principal: EnterpriseUser,
    session: SessionDep,
    state: Annotated[str, Query(max_length=20)] = "",
    cursor: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The enterprise's applications, newest first (``GET /v1/applications``' query)."""
    language = portal_language(request)
    form = Form({"state": state})
    chosen = State(state) if state in {s.value for s in State} else None
    query = repository.list_query(enterprise_id=principal.organisation_id, state=chosen)
    rows, next_cursor = await forms.keyset_page(
        session, form, language, query, Application.id, cursor
    )
    items = await present.summaries(session, rows)
    context = {
        "items": items,
        "programs": await programme_names(session, {i.program_id for i in items}),
        "providers": await names_of(session, {i.provider_id for i in items}),
        "form": form,
        "states": labels.choices("app_state"),
        "next_cursor": next_cursor,
    }
    return render(request, "enterprise/applications.html", context)


async def programme_names(session: AsyncSession, ids: set[Any]) -> dict[Any, str]:
    return {pid: (await programs.get_program(session, pid)).name for pid in ids}


@router.get("/applications/{application_id}")
async def application_detail(
    request: Request, application: EnterpriseApplication, session: SessionDep
) -> Response:
    """Everything the applicant wrote, the amount and its working, and the review so far."""
    shown = await present.for_enterprise(session, application)
    program = await programs.get_program(session, application.program_id)
    language = portal_language(request)
    context = {
        "app": shown,
        "program": program,
        "provider": (await names_of(session, {application.provider_id})).get(
            application.provider_id, ""
        ),
        "working": rules_text.working_steps(shown.eligibility, language),
        "editable": State(application.state) in EDITABLE,
        "withdrawable": State(application.state) in WITHDRAWABLE,
    }
    return render(request, "enterprise/application.html", context)


@router.get("/applications/{application_id}/attachments/{attachment_id}")
async def download(attachment: ReadableAttachment, settings: SettingsDep) -> FileResponse:
    """An attachment, for the owner enterprise (the API's download rule)."""
    path = files.blob_path(applications.attachment_root(settings.data_dir), attachment.sha256)
    return FileResponse(
        path,
        media_type=attachment.content_type,
        filename=attachment.name,
        headers={"Cache-Control": "private, no-store"},
    )


# --- step 6: attachments ---------------------------------------------------------------------


async def _attachments_page(
    request: Request, session: AsyncSession, application: Application, form: Form, status: int = 200
) -> Response:
    rows = await repository.attachments(session, application_id=application.id)
    have = {row.kind for row in rows}
    context = {
        "application": application,
        "attachments": rows,
        "missing": [k for k in rules.REQUIRED_ATTACHMENTS if k not in have],
        "kinds": [(k, labels.of("attachment_kind", k)) for k in ATTACHMENT_KINDS],
        "form": form,
    }
    return wizard(request, "attachments", "attachments", context, status)


@router.get("/applications/{application_id}/attachments")
async def attachments_step(
    request: Request, application: EnterpriseApplication, session: SessionDep
) -> Response:
    return await _attachments_page(request, session, application, Form())


@router.post("/applications/{application_id}/attachments")
async def upload(
    request: Request,
    application: EnterpriseApplication,
    principal: EnterpriseUser,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Attach one file (``POST /v1/applications/{id}/attachments``' service and checks)."""
    language = portal_language(request)
    posted = await request.form()
    kind, upload = str(posted.get("kind") or ""), posted.get("file")
    form = Form({"kind": kind})
    if kind not in ATTACHMENT_KINDS:
        form.errors["kind"] = translate(language, N_("Choose one of the options."))
    if not isinstance(upload, UploadFile) or not upload.filename:
        form.errors["file"] = translate(language, N_("Choose a file to upload."))
    if form.errors:
        await posted.close()
        return await _attachments_page(request, session, application, form, 422)
    assert isinstance(upload, UploadFile)  # noqa: S101 - checked above
    try:
        content = await upload.read(settings.attachment_max_bytes + 1)
    finally:
        await posted.close()
    try:
        await forms.attempt(
            session,
            lambda: applications.add_attachment(
                session,
                application,
                kind=kind,
                name=upload.filename or "",
                content=content,
                actor=principal,
                data_dir=settings.data_dir,
                max_bytes=settings.attachment_max_bytes,
            ),
        )
    except forms.Refused as refused:
        form.errors["file"] = forms.problem_message(language, refused.reason)
        return await _attachments_page(request, session, application, form, 422)
    message = Flash(N_("%(name)s is attached."), params={"name": upload.filename or ""})
    return redirect(request, step_url(application.id, "attachments"), message)


# --- step 7: review and submit -----------------------------------------------------------------


async def _review_page(
    request: Request,
    session: AsyncSession,
    application: Application,
    enterprise: Organisation,
    form: Form,
    status: int = 200,
) -> Response:
    """Everything once more, with the eligible amount the rules give today and its working."""
    language = portal_language(request)
    program = await programs.get_program(session, application.program_id)
    preview: dict[str, Any] | None = None
    try:
        result, awarded = await forms.attempt(
            session, lambda: rules.compute(session, program, application, enterprise)
        )
        preview = {"amount": result.eligible_amount, "working": rules.working(result, awarded)}
    except forms.Refused as refused:
        form.problem = form.problem or forms.problem_message(language, refused.reason)
    rows = await repository.attachments(session, application_id=application.id)
    context = {
        "application": application,
        "program": program,
        "provider": (await names_of(session, {application.provider_id})).get(
            application.provider_id, ""
        ),
        "preview": preview,
        "working": rules_text.working_steps(preview["working"] if preview else None, language),
        "attachments": rows,
        "missing": [k for k in rules.REQUIRED_ATTACHMENTS if k not in {r.kind for r in rows}],
        "form": form,
    }
    return wizard(request, "review", "review", context, status)


@router.get("/applications/{application_id}/review")
async def review_step(
    request: Request,
    application: EnterpriseApplication,
    enterprise: OwnEnterprise,
    session: SessionDep,
) -> Response:
    if State(application.state) not in EDITABLE:
        return redirect(request, f"{APPLICATIONS}/{application.id}")
    return await _review_page(request, session, application, enterprise, Form())


@router.post("/applications/{application_id}/submit")
async def submit(
    request: Request,
    application: EnterpriseApplication,
    principal: EnterpriseUser,
    enterprise: OwnEnterprise,
    session: SessionDep,
) -> Response:
    """Submit for review: every rule is checked by the service (``.../submit``)."""
    language = portal_language(request)
    try:
        await forms.attempt(
            session,
            lambda: applications.submit(
                session, application, actor=principal, enterprise=enterprise
            ),
        )
    except forms.Refused as refused:
        form = Form(problem=forms.problem_message(language, refused.reason))
        return await _review_page(request, session, application, enterprise, form, 422)
    message = Flash(N_("Your application is submitted. You will find the review's progress here."))
    return redirect(request, f"{APPLICATIONS}/{application.id}", message)


@router.post("/applications/{application_id}/withdraw")
async def withdraw(
    request: Request,
    application: EnterpriseApplication,
    principal: EnterpriseUser,
    session: SessionDep,
) -> Response:
    """Take the application back (``.../withdraw``)."""
    target = f"{APPLICATIONS}/{application.id}"
    try:
        await forms.attempt(
            session, lambda: applications.withdraw(session, application, actor=principal)
        )
    except forms.Refused as refused:
        text = forms.problem_message(portal_language(request), refused.reason)
        return redirect(request, target, Flash(text, kind="bad", literal=True))
    return redirect(request, target, Flash(N_("The application is withdrawn.")))
