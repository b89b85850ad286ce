"""Setting up a programme (``/v1/admin/programs``' rules and services): create a draft with all
its rules, change them while it is a draft, open, close and archive it, list its providers and
the most it reimburses per unit, and fund it from the treasury through the ledger (finance).

The programme's report (figures and charts) is ``reports``; this page links to it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from starlette.responses import Response

from providers.registry.models import ProviderProfile
from voucher_service.auth.dependencies import AuthorityUser, ProgramAdmin
from voucher_service.dependencies import SessionDep
from voucher_service.organisations.models import Organisation
from voucher_service.portal import forms, labels, programme_form
from voucher_service.portal.flash import Flash
from voucher_service.portal.forms import Form
from voucher_service.portal.i18n import N_
from voucher_service.portal.money import fen_field
from voucher_service.portal.navigation import roles_of
from voucher_service.portal.routing import portal_router
from voucher_service.portal.templating import portal_language, redirect, render
from voucher_service.programs import configuration
from voucher_service.programs import service as programs
from voucher_service.programs.errors import FundingConflict
from voucher_service.programs.models import PriceCeiling, Program, ProgramStatus
from voucher_service.programs.router import Finance
from voucher_service.programs.schemas import (
    Funding,
    PriceCeilingIn,
    ProgramCreate,
    ProgramRules,
    ProviderListing,
)

router = portal_router("/authority")
NEW = "/portal/authority/programme-setup"
PROGRAMMES = "/portal/authority/programmes"


def setup_url(program_id: uuid.UUID) -> str:
    return f"{PROGRAMMES}/{program_id}/setup"


async def any_programme(
    _principal: AuthorityUser, session: SessionDep, program_id: Annotated[uuid.UUID, Path()]
) -> Program:
    """Any programme, drafts too, for authority users."""
    return await programs.get_program(session, program_id)


Programme = Annotated[Program, Depends(any_programme)]


def _choices() -> dict[str, Any]:
    return {
        "kinds": labels.choices("program_kind"),
        "modes": labels.choices("program_mode"),
        "roundings": labels.choices("rounding"),
        "tiers": labels.choices("tier"),
        "stage_kinds": labels.choices("stage_kind"),
        "policies": [
            ("fifo_by_contract_date", N_("In contract-date order until the budget is used up")),
            ("pro_rata", N_("Pro rata: a batch shares what is left")),
        ],
        "tier_rows": range(programme_form.TIER_ROWS),
        "stage_rows": range(programme_form.STAGE_ROWS),
    }


def _new_page(request: Request, form: Form, status: int = 200) -> Response:
    context = {"form": form, "program": None, **_choices()}
    return render(request, "authority/programme_new.html", context, status=status)


@router.get("/programme-setup")
async def new_programme(request: Request, _principal: ProgramAdmin) -> Response:
    """An empty draft's form, with the usual stages (two reviews, then publicity)."""
    values = {
        "mode": "point_of_sale",
        "rounding_unit": "fen",
        "oversubscription_policy": "fifo_by_contract_date",
        "validity_days": "365",
        "stage0_name": "preliminary",
        "stage1_name": "expert",
        "stage2_name": "publicity",
        "stage2_kind": "publicity",
        "stage2_days": "7",
    }
    return _new_page(request, Form(values))


def _validated(form: Form, request: Request, model: type[ProgramRules]) -> ProgramRules | None:
    language = portal_language(request)
    data = programme_form.rules_data(form, language, with_kind=model is ProgramCreate)
    if form.errors:
        return None
    return forms.validate(form, model, data, language, programme_form.error_fields())


@router.post("/programme-setup")
async def create_programme(
    request: Request, principal: ProgramAdmin, session: SessionDep
) -> Response:
    """Create a draft (``POST /v1/admin/programs``)."""
    form = await forms.read(request)
    body = _validated(form, request, ProgramCreate)
    if not isinstance(body, ProgramCreate):
        return _new_page(request, form, status=422)
    values = body.changes() | {"kind": body.kind}
    try:
        program = await forms.attempt(
            session, lambda: configuration.create_program(session, values, actor=principal)
        )
    except forms.Refused as refused:
        form.problem = forms.problem_message(portal_language(request), refused.reason)
        return _new_page(request, form, status=422)
    return redirect(
        request,
        setup_url(program.id),
        Flash(N_("The draft programme %(name)s is created."), params={"name": program.name}),
    )


async def _providers(session: AsyncSession, program: Program) -> dict[str, Any]:
    """The programme's providers, and the registered ones selling its kind it could add."""
    listed_ids = await programs.eligible_provider_ids(session, program.id)
    rows = (
        await session.execute(
            select(
                Organisation.id, Organisation.name, ProviderProfile.state, ProviderProfile.services
            )
            .join(ProviderProfile, col(ProviderProfile.organisation_id) == col(Organisation.id))
            .order_by(col(Organisation.name))
        )
    ).all()
    listed = [(pid, name, state) for pid, name, state, _ in rows if pid in listed_ids]
    addable = [
        (str(pid), name)
        for pid, name, _, services in rows
        if pid not in listed_ids and program.kind in services
    ]
    return {"listed": listed, "addable": addable}


async def programme_page(
    request: Request,
    session: AsyncSession,
    program: Program,
    *,
    shown: dict[str, Form] | None = None,
    status: int = 200,
) -> Response:
    """The set-up page: money, state, rules (a form while a draft), providers and ceilings."""
    role = request.state.principal.role
    ceilings = await session.scalars(
        select(PriceCeiling)
        .where(col(PriceCeiling.program_id) == program.id)
        .order_by(col(PriceCeiling.resource), col(PriceCeiling.unit))
    )
    context = {
        "program": program,
        "figures": await programs.figures(session, program),
        "ceilings": list(ceilings),
        **await _providers(session, program),
        "can_configure": role in roles_of(ProgramAdmin),
        "can_fund": role in roles_of(Finance),
        "fundable": program.status != ProgramStatus.archived,
        "forms": {
            "rules": programme_form.form_of(program),
            "fund": Form({"funding_key": uuid.uuid4().hex}, prefix="fund"),
            "provider": Form(prefix="provider"),
            "ceiling": Form(prefix="ceiling"),
            "state": Form(prefix="state"),
            **(shown or {}),
        },
        **_choices(),
    }
    return render(request, "authority/programme_setup.html", context, status=status)


@router.get("/programmes/{program_id}/setup")
async def programme_setup(request: Request, program: Programme, session: SessionDep) -> Response:
    return await programme_page(request, session, program)


async def _attempt(
    request: Request,
    session: AsyncSession,
    program: Program,
    form: Form,
    name: str,
    action: Callable[[], Awaitable[Any]],
    done: Flash,
) -> Response:
    """Run ``action``; a refusal shows the page again with the reason on ``form``."""
    try:
        await forms.attempt(session, action)
    except forms.Refused as refused:
        form.problem = forms.problem_message(portal_language(request), refused.reason)
        await session.refresh(program)
        return await programme_page(request, session, program, shown={name: form}, status=422)
    return redirect(request, setup_url(program.id), done)


@router.post("/programmes/{program_id}/setup")
async def update_rules(
    request: Request, principal: ProgramAdmin, program: Programme, session: SessionDep
) -> Response:
    """Change a draft's rules (``PATCH /v1/admin/programs/{id}``)."""
    form = await forms.read(request)
    body = _validated(form, request, ProgramRules)
    if body is None:
        return await programme_page(request, session, program, shown={"rules": form}, status=422)
    locked = await programs.get_program(session, program.id, for_update=True)
    return await _attempt(
        request,
        session,
        program,
        form,
        "rules",
        lambda: configuration.update_program(session, locked, body.changes(), actor=principal),
        Flash(N_("The rules are saved.")),
    )


STATE_CHANGES = {
    "open": (configuration.open_program, N_("The programme is open: its rules are frozen.")),
    "close": (configuration.close_program, N_("The programme no longer accepts applications.")),
    "archive": (configuration.archive_program, N_("The programme is archived.")),
}


async def _change_state(
    request: Request, session: AsyncSession, program: Program, principal: ProgramAdmin, change: str
) -> Response:
    action, done = STATE_CHANGES[change]
    return await _attempt(
        request,
        session,
        program,
        Form(prefix="state"),
        "state",
        lambda: action(session, program, actor=principal),
        Flash(done),
    )


@router.post("/programmes/{program_id}/open")
async def open_programme(
    request: Request, principal: ProgramAdmin, program: Programme, session: SessionDep
) -> Response:
    """Publish a draft (``POST /v1/admin/programs/{id}/open``): its rules freeze."""
    return await _change_state(request, session, program, principal, "open")


@router.post("/programmes/{program_id}/close")
async def close_programme(
    request: Request, principal: ProgramAdmin, program: Programme, session: SessionDep
) -> Response:
    """Stop accepting applications (``.../close``); issued vouchers stay valid."""
    return await _change_state(request, session, program, principal, "close")


@router.post("/programmes/{program_id}/archive")
async def archive_programme(
    request: Request, principal: ProgramAdmin, program: Programme, session: SessionDep
) -> Response:
    """Archive a closed programme (``.../archive``)."""
    return await _change_state(request, session, program, principal, "archive")


@router.post("/programmes/{program_id}/fund")
async def fund(
    request: Request, principal: Finance, program: Programme, session: SessionDep
) -> Response:
    """Fund from the treasury (``POST /v1/admin/programs/{id}/fund``), once per form shown."""
    form, language = await forms.read(request), portal_language(request)
    form.prefix = "fund"
    data = {
        "amount": fen_field(form.values, form.errors, "amount", language),
        "client_reference": form.values.get("funding_key") or None,
        "note": form.values.get("note") or None,
    }
    body = forms.validate(form, Funding, data, language, {("client_reference",): "amount"})
    if body is None or form.errors or body.client_reference is None:
        return await programme_page(request, session, program, shown={"fund": form}, status=422)
    key, amount = body.client_reference, body.amount
    try:
        outcome = await forms.attempt(
            session,
            lambda: configuration.fund(
                session, program, amount=amount, key=key, actor=principal, note=body.note
            ),
        )
    except forms.Refused as refused:
        fields: dict[type[Exception], str] = {FundingConflict: "amount"}
        forms.place(form, refused.reason, language, fields)
        return await programme_page(request, session, program, shown={"fund": form}, status=422)
    text = (
        N_("This funding was already recorded; nothing was moved twice.")
        if outcome.replayed
        else N_("The budget is funded.")
    )
    return redirect(
        request, setup_url(program.id), Flash(text, kind="info" if outcome.replayed else "ok")
    )


@router.post("/programmes/{program_id}/providers")
async def add_provider(
    request: Request, principal: ProgramAdmin, program: Programme, session: SessionDep
) -> Response:
    """List a registered provider (``POST /v1/admin/programs/{id}/providers``)."""
    form, language = await forms.read(request), portal_language(request)
    form.prefix = "provider"
    body = forms.validate(form, ProviderListing, form.values, language)
    if body is None:
        return await programme_page(request, session, program, shown={"provider": form}, status=422)
    return await _attempt(
        request,
        session,
        program,
        form,
        "provider",
        lambda: configuration.add_eligible_provider(
            session, program, body.provider_id, actor=principal
        ),
        Flash(N_("The provider is on the programme's list.")),
    )


@router.post("/programmes/{program_id}/providers/{provider_id}/remove")
async def remove_provider(
    request: Request,
    principal: ProgramAdmin,
    program: Programme,
    session: SessionDep,
    provider_id: uuid.UUID,
) -> Response:
    """Take a provider off the list (``DELETE .../providers/{pid}``); vouchers keep it."""
    return await _attempt(
        request,
        session,
        program,
        Form(prefix="provider"),
        "provider",
        lambda: configuration.remove_eligible_provider(
            session, program, provider_id, actor=principal
        ),
        Flash(N_("The provider is off the programme's list.")),
    )


@router.post("/programmes/{program_id}/price-ceilings")
async def set_ceiling(
    request: Request, principal: ProgramAdmin, program: Programme, session: SessionDep
) -> Response:
    """The most reimbursed per unit of a resource (``PUT .../price-ceilings``)."""
    form, language = await forms.read(request), portal_language(request)
    form.prefix = "ceiling"
    data = {
        "resource": form.values.get("resource", ""),
        "unit": form.values.get("unit", ""),
        "max_unit_price_amount": fen_field(form.values, form.errors, "max_unit_price", language),
    }
    fields: dict[tuple[str | int, ...], str] = {("max_unit_price_amount",): "max_unit_price"}
    body = forms.validate(form, PriceCeilingIn, data, language, fields)
    if body is None or form.errors:
        return await programme_page(request, session, program, shown={"ceiling": form}, status=422)
    return await _attempt(
        request,
        session,
        program,
        form,
        "ceiling",
        lambda: configuration.set_price_ceiling(
            session, program, actor=principal, **body.model_dump()
        ),
        Flash(N_("The most reimbursed per unit is set.")),
    )
