"""The guided application form: programme → provider → contract → project → declaration →
attachments → review → submit, one page per step, working without JavaScript.

The first two steps are choices carried in the address; the contract step creates the draft
(``POST /v1/applications``' service), and every later step saves it again (``PATCH``), so the
draft lives on the server between steps and the applicant can leave and come back. Submission is
``POST /v1/applications/{id}/submit``' service: every rule is the applications domain's.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Query, Request
from sqlmodel import col, select
from starlette.responses import Response

from providers.registry import service as registry
from voucher_service.applications import rules
from voucher_service.applications import service as applications
from voucher_service.applications.dependencies import EnterpriseApplication, OwnEnterprise
from voucher_service.applications.errors import (
    ContractAlreadyClaimed,
    ContractOutsideWindow,
)
from voucher_service.applications.schemas import ApplicationCreate, ApplicationUpdate
from voucher_service.applications.workflow import EDITABLE, State
from voucher_service.auth.dependencies import EnterpriseUser
from voucher_service.auth.errors import NotFound
from voucher_service.dependencies import SessionDep
from voucher_service.organisations.models import Organisation
from voucher_service.portal import forms
from voucher_service.portal.flash import Flash
from voucher_service.portal.forms import Form
from voucher_service.portal.i18n import N_, translate
from voucher_service.portal.money import as_yuan_input, fen_field
from voucher_service.portal.routing import portal_router
from voucher_service.portal.templating import portal_language, redirect, render
from voucher_service.programs import service as programs
from voucher_service.programs.models import Program, ProgramStatus

router = portal_router("/enterprise")
APPLICATIONS = "/portal/enterprise/applications"

STEPS = [
    ("programme", N_("Programme")),
    ("provider", N_("Provider")),
    ("contract", N_("Contract")),
    ("project", N_("Project")),
    ("declaration", N_("Declaration")),
    ("attachments", N_("Attachments")),
    ("review", N_("Review and submit")),
]
CONTRACT_FIELDS = (
    "contract_number",
    "contract_amount",
    "contract_signed_on",
    "contract_starts_on",
    "contract_ends_on",
    "project_name",
)
CONTRACT_PROBLEMS: dict[type[Exception], str] = {
    ContractAlreadyClaimed: "contract_number",
    ContractOutsideWindow: "contract_starts_on",
}
NOT_EDITABLE = N_("This application is no longer a draft: it cannot be changed now.")


def step_url(application_id: uuid.UUID, step: str) -> str:
    return f"{APPLICATIONS}/{application_id}/{step}"


def wizard(
    request: Request, template: str, step: str, context: dict[str, Any], status: int = 200
) -> Response:
    """A step of the form, with the list of steps and where this one is."""
    names = [name for name, _ in STEPS]
    values = {"steps": STEPS, "step": step, "step_number": names.index(step) + 1, **context}
    return render(request, f"apply/{template}.html", values, status=status)


# --- programme and provider: choices carried in the address --------------------------------


async def open_programmes(session: SessionDep) -> list[Program]:
    rows = await session.scalars(
        select(Program)
        .where(col(Program.status) == ProgramStatus.open)
        .order_by(col(Program.closes_on))
    )
    return [p for p in rows if p.opens_on <= rules.today() <= p.closes_on]


async def approved_providers(session: SessionDep, program: Program) -> list[Organisation]:
    """The programme's providers that are approved (not suspended): the ones it accepts."""
    listed = await programs.eligible_provider_ids(session, program.id)
    approved = await registry.approved_ids(session, listed)
    if not approved:
        return []
    rows = await session.scalars(
        select(Organisation)
        .where(col(Organisation.id).in_(approved))
        .order_by(col(Organisation.name))
    )
    return list(rows)


@router.get("/apply")
async def start(
    request: Request,
    _principal: EnterpriseUser,
    session: SessionDep,
    program: Annotated[uuid.UUID | None, Query()] = None,
    provider: Annotated[uuid.UUID | None, Query()] = None,
) -> Response:
    """Step 1 (no programme chosen), 2 (no provider chosen) or 3 (the contract form)."""
    choices = await open_programmes(session)
    chosen = next((p for p in choices if p.id == program), None)
    if chosen is None:
        return wizard(request, "programme", "programme", {"programmes": choices})
    providers = await approved_providers(session, chosen)
    picked = next((p for p in providers if p.id == provider), None)
    if picked is None:
        return wizard(request, "provider", "provider", {"program": chosen, "providers": providers})
    return _contract_page(request, chosen, picked, None, Form())


def _contract_page(
    request: Request,
    program: Program,
    provider: Organisation,
    application_id: uuid.UUID | None,
    form: Form,
    status: int = 200,
) -> Response:
    context = {
        "program": program,
        "provider": provider,
        "application_id": application_id,
        "form": form,
    }
    return wizard(request, "contract", "contract", context, status)


def contract_data(form: Form, language: str) -> dict[str, Any]:
    """The contract fields as the API's schema takes them (amounts in fen)."""
    values = form.values
    data: dict[str, Any] = {name: values.get(name, "") for name in CONTRACT_FIELDS}
    data["contract_amount"] = fen_field(values, form.errors, "contract_amount", language)  # type: ignore[arg-type]
    data["contract_domestic_chips"] = values.get("contract_domestic_chips") == "yes"
    return data


@router.post("/apply")
async def create_draft(
    request: Request, principal: EnterpriseUser, enterprise: OwnEnterprise, session: SessionDep
) -> Response:
    """The contract step of a new application: the draft is created (and saved) here."""
    form, language = await forms.read(request), portal_language(request)
    program = await _chosen_programme(session, form.values.get("program_id"))
    providers = await approved_providers(session, program)
    provider = next((p for p in providers if str(p.id) == form.values.get("provider_id")), None)
    if provider is None:
        return redirect(request, f"/portal/enterprise/apply?program={program.id}")
    data = {**contract_data(form, language), "program_id": program.id, "provider_id": provider.id}
    body = forms.validate(form, ApplicationCreate, data, language) if not form.errors else None
    if body is None:
        return _contract_page(request, program, provider, None, form, 422)
    try:
        created = await forms.attempt(
            session,
            lambda: applications.create(session, body, actor=principal, enterprise=enterprise),
        )
    except forms.Refused as refused:
        forms.place(form, refused.reason, language, CONTRACT_PROBLEMS)
        return _contract_page(request, program, provider, None, form, 422)
    message = Flash(N_("Your draft is saved. You can leave and continue it at any time."))
    return redirect(request, step_url(created.id, "project"), message)


async def _chosen_programme(session: SessionDep, raw: object) -> Program:
    try:
        program_id = uuid.UUID(str(raw))
    except ValueError:
        program_id = None
    chosen = next((p for p in await open_programmes(session) if p.id == program_id), None)
    if chosen is None:
        raise NotFound()
    return chosen


# --- later steps: the draft is saved on the server --------------------------------------------


def _editable_or_none(application: Any) -> bool:
    return State(application.state) in EDITABLE


async def _provider_of(session: SessionDep, application: Any) -> Organisation:
    provider = await session.get(Organisation, application.provider_id)
    assert provider is not None  # noqa: S101 - a foreign key
    return provider


@router.get("/applications/{application_id}/contract")
async def contract_step(
    request: Request, application: EnterpriseApplication, session: SessionDep
) -> Response:
    if not _editable_or_none(application):
        return _not_editable(request, application)
    values = {name: str(getattr(application, name)) for name in CONTRACT_FIELDS}
    values["contract_amount"] = as_yuan_input(application.contract_amount)
    values["contract_domestic_chips"] = "yes" if application.contract_domestic_chips else ""
    program = await programs.get_program(session, application.program_id)
    provider = await _provider_of(session, application)
    return _contract_page(request, program, provider, application.id, Form(values))


@router.post("/applications/{application_id}/contract")
async def save_contract(
    request: Request,
    application: EnterpriseApplication,
    principal: EnterpriseUser,
    enterprise: OwnEnterprise,
    session: SessionDep,
) -> Response:
    form, language = await forms.read(request), portal_language(request)
    data = contract_data(form, language)
    saved = await _save(
        request, session, application, principal, enterprise, form, data, CONTRACT_PROBLEMS
    )
    if saved is not None:
        return redirect(request, step_url(application.id, "project"))
    program = await programs.get_program(session, application.program_id)
    provider = await _provider_of(session, application)
    return _contract_page(request, program, provider, application.id, form, 422)


async def _save(
    request: Request,
    session: SessionDep,
    application: Any,
    principal: EnterpriseUser,
    enterprise: OwnEnterprise,
    form: Form,
    data: dict[str, Any],
    problems: dict[type[Exception], str] | None = None,
) -> object | None:
    """Save ``data`` on the draft (the PATCH route's service); None with errors on the form."""
    language = portal_language(request)
    body = forms.validate(form, ApplicationUpdate, data, language) if not form.errors else None
    if body is None:
        return None
    try:
        return await forms.attempt(
            session,
            lambda: applications.update(
                session, application, body, actor=principal, enterprise=enterprise
            ),
        )
    except forms.Refused as refused:
        forms.place(form, refused.reason, language, problems)
        return None


def _not_editable(request: Request, application: Any) -> Response:
    message = Flash(NOT_EDITABLE, kind="warn")
    return redirect(request, f"{APPLICATIONS}/{application.id}", message)


@router.get("/applications/{application_id}/project")
async def project_step(request: Request, application: EnterpriseApplication) -> Response:
    if not _editable_or_none(application):
        return _not_editable(request, application)
    form = Form(
        {"project_name": application.project_name, "project_summary": application.project_summary}
    )
    return wizard(request, "project", "project", {"application": application, "form": form})


@router.post("/applications/{application_id}/project")
async def save_project(
    request: Request,
    application: EnterpriseApplication,
    principal: EnterpriseUser,
    enterprise: OwnEnterprise,
    session: SessionDep,
) -> Response:
    form = await forms.read(request)
    data = {k: form.values.get(k, "") for k in ("project_name", "project_summary")}
    if await _save(request, session, application, principal, enterprise, form, data) is not None:
        return redirect(request, step_url(application.id, "declaration"))
    context = {"application": application, "form": form}
    return wizard(request, "project", "project", context, 422)


@router.get("/applications/{application_id}/declaration")
async def declaration_step(request: Request, application: EnterpriseApplication) -> Response:
    if not _editable_or_none(application):
        return _not_editable(request, application)
    declared = application.related_party_declared
    form = Form(
        {
            "related_party": "yes" if declared else "",
            "related_party_note": application.related_party_note or "",
        }
    )
    return wizard(request, "declaration", "declaration", {"application": application, "form": form})


@router.post("/applications/{application_id}/declaration")
async def save_declaration(
    request: Request,
    application: EnterpriseApplication,
    principal: EnterpriseUser,
    enterprise: OwnEnterprise,
    session: SessionDep,
) -> Response:
    form, language = await forms.read(request), portal_language(request)
    answer = form.values.get("related_party")
    if answer not in ("yes", "no"):
        form.errors["related_party"] = translate(language, N_("Choose one of the options."))
    if form.values.get("truthful") != "yes":
        form.errors["truthful"] = translate(
            language, N_("Confirm that what you declared is true and complete.")
        )
    data = {
        "related_party_declared": answer == "yes",
        "related_party_note": form.values.get("related_party_note") or None,
    }
    if await _save(request, session, application, principal, enterprise, form, data) is not None:
        return redirect(request, step_url(application.id, "attachments"))
    context = {"application": application, "form": form}
    return wizard(request, "declaration", "declaration", context, 422)
