"""The reviewers' pages: the queue per stage (filters, bulk decisions), one application with
everything a reviewer needs, and decisions: the rules of ``/v1/admin/applications``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import FileResponse
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from starlette.responses import Response

from ledger.sqltypes import utcnow
from voucher_service.applications import files, present, repository, review
from voucher_service.applications import service as applications
from voucher_service.applications.dependencies import (
    ApplicationToDecide,
    AuthorityApplication,
    ReadableAttachment,
    Reviewer,
    ReviewReader,
)
from voucher_service.applications.models import Application
from voucher_service.applications.schemas import DecisionCreate
from voucher_service.applications.workflow import UNDER_REVIEW, State, stages_of
from voucher_service.auth.principal import Principal
from voucher_service.db import Database
from voucher_service.dependencies import DatabaseDep, SessionDep, SettingsDep
from voucher_service.kit.pagination import paginate
from voucher_service.kit.problems import ProblemError
from voucher_service.organisations.models import Organisation
from voucher_service.portal import forms, labels, rules_text
from voucher_service.portal.flash import Flash
from voucher_service.portal.forms import Form
from voucher_service.portal.i18n import N_, translate
from voucher_service.portal.navigation import roles_of
from voucher_service.portal.pages.applications import names_of
from voucher_service.portal.routing import portal_router
from voucher_service.portal.templating import portal_language, redirect, render
from voucher_service.programs import service as programs
from voucher_service.programs.models import Program

router = portal_router("/authority")
QUEUE = "/portal/authority/review"
WAITING = "waiting"  # the queue's default: everything under review (submitted, stages, publicity)
DECISIONS = [
    ("approve", N_("Approve")),
    ("return", N_("Return for changes")),
    ("reject", N_("Reject")),
]


async def decide_on_record(
    session: AsyncSession,
    database: Database,
    application: Application,
    body: DecisionCreate,
    principal: Principal,
) -> review.Decided:
    """``review.decide``, and a refusal kept in the audit trail (as the API's route does)."""
    try:
        return await forms.attempt(
            session,
            lambda: review.decide(
                session, application, body.decision, body.comment, actor=principal
            ),
        )
    except forms.Refused as refused:
        if isinstance(refused.reason, ProblemError):
            await review.record_refusal(
                database, application, body.decision, refused.reason.code, actor=principal
            )
        raise


async def all_programmes(session: AsyncSession) -> list[Program]:
    return list(await session.scalars(select(Program).order_by(col(Program.id).desc())))


def _queue_filters(form: Form, programmes: list[Program]) -> tuple[Any, int | None, State | None]:
    program = next((p for p in programmes if str(p.id) == form.values.get("program")), None)
    raw_stage = form.values.get("stage") or ""
    stage = int(raw_stage) if raw_stage.isdigit() and int(raw_stage) <= 50 else None
    raw_state = form.values.get("state") or ""
    state = State(raw_state) if raw_state in {s.value for s in State} else None
    return program, stage, state


@router.get("/review")
async def queue(
    request: Request,
    principal: ReviewReader,
    session: SessionDep,
    program: Annotated[str, Query(max_length=40)] = "",
    stage: Annotated[str, Query(max_length=3)] = "",
    state: Annotated[str, Query(max_length=20)] = WAITING,
    cursor: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """Applications waiting, oldest first (a queue is worked from its head)."""
    language = portal_language(request)
    form = Form({"program": program, "stage": stage, "state": state})
    programmes = await all_programmes(session)
    chosen, stage_index, chosen_state = _queue_filters(form, programmes)
    query = repository.list_query(
        program_id=chosen.id if chosen else None, stage_index=stage_index, state=chosen_state
    )
    if state == WAITING:
        query = query.where(col(Application.state).in_([str(s) for s in UNDER_REVIEW]))
    params = forms.page_params(cursor, form, language)
    rows, next_cursor = await paginate(session, query, Application.id, params, newest_first=False)  # type: ignore[arg-type]
    items = await present.summaries(session, rows)
    stages = stages_of(chosen.review_stages) if chosen else ()
    context = {
        "items": items,
        "form": form,
        "programmes": [(str(p.id), p.name) for p in programmes],
        "names": {p.id: p.name for p in programmes},
        "stages": [(str(i), s.name) for i, s in enumerate(stages)],
        "states": [(WAITING, N_("Waiting for a decision")), *labels.choices("app_state")],
        "enterprises": await names_of(session, {i.enterprise_id for i in items}),
        "providers": await names_of(session, {i.provider_id for i in items}),
        "next_cursor": next_cursor,
        "can_decide": principal.role in roles_of(Reviewer),
        "decisions": DECISIONS,
    }
    return render(request, "authority/review_queue.html", context)


@router.post("/review/bulk")
async def bulk_decide(
    request: Request,
    principal: Reviewer,
    session: SessionDep,
    database: DatabaseDep,
) -> Response:
    """One decision, with one comment, for every ticked application; each is decided on its
    own (a refusal of one does not undo the others) and the outcome is reported per application."""
    language = portal_language(request)
    form = await forms.read(request, lists=("application_ids",))
    back = request.headers.get("referer") or QUEUE
    target = back if back.startswith(str(request.base_url).rstrip("/") + QUEUE) else QUEUE
    data = {"decision": form.values.get("decision"), "comment": form.values.get("comment", "")}
    body = forms.validate(form, DecisionCreate, data, language)
    ids = _ids(form.values["application_ids"])
    if body is None or not ids:
        message = Flash(N_("Tick the applications and choose a decision first."), kind="warn")
        return redirect(request, target, message)
    done, refused = 0, []
    for application_id in ids:
        application = await session.get(Application, application_id)
        if application is None:
            continue
        try:
            await decide_on_record(session, database, application, body, principal)
            done += 1
        except forms.Refused as exc:
            refused.append(
                f"{application.project_name}: {forms.problem_message(language, exc.reason)}"
            )
    text = translate(language, N_("%(count)s decided."), count=str(done))
    if refused:
        text += " " + translate(language, N_("Refused:")) + " " + "；".join(refused)
    return redirect(request, target, Flash(text, kind="warn" if refused else "ok", literal=True))


def _ids(raw: list[str]) -> list[uuid.UUID]:
    ids = []
    for value in raw[:100]:
        try:
            ids.append(uuid.UUID(value))
        except ValueError:
            continue
    return ids


async def _review_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    application: Application,
    form: Form,
    status: int = 200,
) -> Response:
    language = portal_language(request)
    shown = await present.for_authority(session, application, utcnow())
    program = await programs.get_program(session, application.program_id)
    enterprise = await session.get(Organisation, application.enterprise_id)
    context = {
        "app": shown,
        "program": program,
        "enterprise": enterprise,
        "provider": (await names_of(session, {application.provider_id})).get(
            application.provider_id, ""
        ),
        "working": rules_text.working_steps(shown.eligibility, language),
        "stages": stages_of(program.review_stages),
        "can_decide": principal.role in roles_of(Reviewer)
        and State(application.state) in {State.submitted, State.in_review, State.publicity},
        "decisions": DECISIONS,
        "form": form,
    }
    return render(request, "authority/review_application.html", context, status=status)


@router.get("/applications/{application_id}")
async def application_page(
    request: Request,
    principal: ReviewReader,
    application: AuthorityApplication,
    session: SessionDep,
) -> Response:
    """All the data, attachments, the computed amount and its working, history, objections."""
    return await _review_page(request, session, principal, application, Form())


@router.post("/applications/{application_id}/decisions")
async def decide(
    request: Request,
    principal: Reviewer,
    application: ApplicationToDecide,
    session: SessionDep,
    database: DatabaseDep,
) -> Response:
    """Approve, return or reject at the current stage (four-eyes refusals shown readably)."""
    language = portal_language(request)
    form = await forms.read(request)
    body = forms.validate(form, DecisionCreate, form.values, language)
    if body is None:
        return await _review_page(request, session, principal, application, form, 422)
    try:
        decided = await decide_on_record(session, database, application, body, principal)
    except forms.Refused as refused:
        form.problem = forms.problem_message(language, refused.reason)
        return await _review_page(request, session, principal, application, form, 422)
    if decided.awaiting_second_approver:
        message = Flash(N_("Your approval is recorded. A second approver must now approve too."))
    else:
        said = translate(language, labels.of("decision", body.decision.value))
        text = translate(language, N_("Decision recorded: %(decision)s."), decision=said)
        message = Flash(text, literal=True)
    return redirect(request, f"/portal/authority/applications/{application.id}", message)


@router.get("/applications/{application_id}/attachments/{attachment_id}")
async def attachment(attachment: ReadableAttachment, settings: SettingsDep) -> FileResponse:
    """An attachment shown in the browser (PDFs and images open inline)."""
    path = files.blob_path(applications.attachment_root(settings.data_dir), attachment.sha256)
    return FileResponse(
        path,
        media_type=attachment.content_type,
        filename=attachment.name,
        content_disposition_type="inline",
        headers={"Cache-Control": "private, no-store"},
    )
