"""The authority's settlements: the list (by state, payee, period), one settlement with its items,
drafts generated for a period, approval (four eyes above the configured amount, enforced by the
service), the payment with its bank reference and the resolution of a dispute. The rules of
``/v1/admin/settlements``."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from functools import partial
from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from starlette.responses import Response

from voucher_service.dependencies import DatabaseDep, SessionDep, SettingsDep
from voucher_service.kit.i18n import Language
from voucher_service.organisations.models import Organisation
from voucher_service.portal import forms, labels
from voucher_service.portal.flash import Flash
from voucher_service.portal.forms import Form
from voucher_service.portal.i18n import N_, translate
from voucher_service.portal.navigation import roles_of
from voucher_service.portal.pages.provider_settlements import items_context, list_context
from voucher_service.portal.pages.provider_statements import export_options
from voucher_service.portal.routing import portal_router
from voucher_service.portal.templating import portal_language, redirect, render
from voucher_service.programs.errors import ProgramNotFound
from voucher_service.programs.models import Program, ProgramStatus
from voucher_service.settlements import router as settlements_api
from voucher_service.settlements.models import Settlement, SettlementStatus
from voucher_service.settlements.router import AnySettlement, Finance, Generator, Reader
from voucher_service.settlements.schemas import (
    SettlementCancel,
    SettlementGenerate,
    SettlementPay,
    SettlementResolve,
)
from voucher_service.users.models import User

router = portal_router("/authority/settlements")
SETTLEMENTS = "/portal/authority/settlements"
GENERATE_PREFIX = "gen"
FILTERS = ("status", "payee_id", "since", "until")
Text = Annotated[str, Query(max_length=64)]


def _day(form: Form, name: str, language: Language) -> date | None:
    raw = form.values.get(name) or ""
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        form.errors[name] = translate(language, N_("Enter a date, like 2024-03-18."))
        return None


def filtered_query(form: Form, language: Language) -> Any:
    """Settlements matching the filter form: state, payee, and periods within since–until."""
    query = select(Settlement)
    state = form.values.get("status") or ""
    if state and state not in set(SettlementStatus):
        form.errors["status"] = translate(language, N_("Choose one of the options."))
    elif state:
        query = query.where(col(Settlement.status) == state)
    payee = forms.parse_uuid(form, "payee_id", language)
    if payee is not None:
        query = query.where(col(Settlement.payee_id) == payee)
    since, until = _day(form, "since", language), _day(form, "until", language)
    if since is not None:
        query = query.where(col(Settlement.period_end_on) >= since)
    if until is not None:
        query = query.where(col(Settlement.period_start_on) <= until)
    return query


async def _choices(session: AsyncSession) -> dict[str, Any]:
    """The payees that have settlements, and the programmes drafts can be generated for."""
    payee_ids = select(Settlement.payee_id).distinct()
    payees = await session.execute(
        select(Organisation.id, Organisation.name)
        .where(col(Organisation.id).in_(payee_ids))
        .order_by(col(Organisation.name))
    )
    programs = await session.execute(
        select(Program.id, Program.name)
        .where(col(Program.status).in_([ProgramStatus.open, ProgramStatus.closed]))
        .order_by(col(Program.name))
    )
    return {
        "payee_choices": [(str(row[0]), row[1]) for row in payees],
        "program_choices": [(str(row[0]), row[1]) for row in programs],
    }


async def _list_page(
    request: Request, session: AsyncSession, form: Form, new: Form, cursor: str = ""
) -> Response:
    language = portal_language(request)
    query = filtered_query(form, language)
    rows, next_cursor = await forms.keyset_page(
        session, form, language, query, Settlement.id, cursor
    )
    context = {
        **await list_context(session, rows, next_cursor),
        **await _choices(session),
        "statuses": labels.choices("settlement"),
        "can_generate": request.state.principal.role in roles_of(Generator),
        "form": form,
        "new": new,
    }
    status = 422 if form.invalid or new.invalid else 200
    return render(request, "settlements/finance_list.html", context, status=status)


@router.get("")
async def settlement_list(
    request: Request,
    _principal: Reader,
    session: SessionDep,
    status: Text = "",
    payee_id: Text = "",
    since: Text = "",
    until: Text = "",
    cursor: Text = "",
) -> Response:
    """Every settlement, newest first, filtered by state, payee and period."""
    form = Form({"status": status, "payee_id": payee_id, "since": since, "until": until})
    return await _list_page(request, session, form, Form(prefix=GENERATE_PREFIX), cursor)


@router.post("")
async def generate(request: Request, principal: Generator, session: SessionDep) -> Response:
    """Draft one settlement per payee for a programme's period (``POST /v1/admin/settlements``)."""
    new, language = await forms.read(request), portal_language(request)
    new.prefix = GENERATE_PREFIX
    data = {name: value or None for name, value in new.values.items()}
    body = forms.validate(new, SettlementGenerate, data, language)
    if body is None:
        return await _list_page(request, session, Form(), new)

    try:
        made = await forms.attempt(
            session, partial(settlements_api.generate, principal, session, body)
        )
    except forms.Refused as refused:
        forms.place(new, refused.reason, language, {ProgramNotFound: "program_id"})
        return await _list_page(request, session, Form(), new)
    if not made:
        message = Flash(N_("Nothing to settle in that period: no draft was made."), "warn")
        return redirect(request, SETTLEMENTS, message)
    message = Flash(N_("%(count)s draft settlements are made."), params={"count": str(len(made))})
    return redirect(request, f"{SETTLEMENTS}?status=draft", message)


async def _detail_page(
    request: Request,
    session: AsyncSession,
    settlement: Settlement,
    form: Form,
    settings: Any,
    cursor: str = "",
) -> Response:
    context = await items_context(session, settlement, cursor, form, portal_language(request))
    role = request.state.principal.role
    context.update(
        can_decide=role in roles_of(Finance),
        four_eyes=settlement.net_amount > settings.settlement_four_eyes_amount,
        names=await _people(session, settlement),
    )
    status = 422 if form.invalid else 200
    return render(request, "settlements/finance_detail.html", context, status=status)


async def _people(session: AsyncSession, settlement: Settlement) -> dict[uuid.UUID, str]:
    """The names of who generated, approved and paid it."""
    ids = {
        i
        for i in (
            settlement.created_by_id,
            settlement.first_approved_by_id,
            settlement.approved_by_id,
            settlement.paid_by_id,
        )
        if i is not None
    }
    if not ids:
        return {}
    rows = await session.execute(select(User.id, User.name).where(col(User.id).in_(ids)))
    return {row[0]: row[1] for row in rows}


@router.get("/{settlement_id}")
async def settlement_detail(
    request: Request,
    _principal: Reader,
    settlement: AnySettlement,
    session: SessionDep,
    settings: SettingsDep,
    cursor: Text = "",
) -> Response:
    return await _detail_page(request, session, settlement, Form(), settings, cursor)


@router.get("/{settlement_id}/export")
async def settlement_export(
    request: Request,
    principal: Reader,
    settlement: AnySettlement,
    database: DatabaseDep,
    format: Annotated[str, Query(max_length=8)] = "csv",
) -> Response:
    """The settlement's items as CSV or XLSX (the API's export)."""
    options = export_options(request, format)
    return await settlements_api.admin_export(principal, database, settlement, options)


@router.post("/{settlement_id}/approve")
async def approve(
    request: Request,
    principal: Finance,
    settlement: AnySettlement,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Approve a draft (``POST /v1/admin/settlements/{id}/approve``); above the four-eyes
    amount the first approval waits for a second finance officer's."""
    form = Form()
    try:
        await forms.attempt(
            session, partial(settlements_api.approve, principal, session, settlement, settings)
        )
    except forms.Refused as refused:
        forms.place(form, refused.reason, portal_language(request))
        return await _detail_page(request, session, settlement, form, settings)
    approved = settlement.status == SettlementStatus.approved
    message = Flash(
        N_("The settlement is approved and issued to the payee.")
        if approved
        else N_("First approval recorded: another finance officer must give the second.")
    )
    return redirect(request, f"{SETTLEMENTS}/{settlement.id}", message)


async def _decide(
    request: Request,
    session: AsyncSession,
    settlement: Settlement,
    settings: Any,
    schema: type[BaseModel],
    decide: Callable[[Any], Awaitable[Any]],
    message: Callable[[], Flash],
) -> Response:
    """A decision taken with a form: validated by ``schema``, taken by the API route function
    ``decide(body)``; a refusal is shown on the page, nothing changed."""
    form, language = await forms.read(request), portal_language(request)
    body = forms.validate(form, schema, form.values, language)
    if body is None:
        return await _detail_page(request, session, settlement, form, settings)
    try:
        await forms.attempt(session, partial(decide, body))
    except forms.Refused as refused:
        forms.place(form, refused.reason, language)
        return await _detail_page(request, session, settlement, form, settings)
    return redirect(request, f"{SETTLEMENTS}/{settlement.id}", message())


@router.post("/{settlement_id}/pay")
async def pay(
    request: Request,
    principal: Finance,
    settlement: AnySettlement,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Record the bank transfer (``POST /v1/admin/settlements/{id}/pay``): posts the payout."""
    return await _decide(
        request,
        session,
        settlement,
        settings,
        SettlementPay,
        partial(settlements_api.pay, principal, session, settlement),
        lambda: Flash(N_("The payment is recorded.")),
    )


@router.post("/{settlement_id}/cancel")
async def cancel(
    request: Request,
    principal: Finance,
    settlement: AnySettlement,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Cancel a draft (``POST /v1/admin/settlements/{id}/cancel``): its items are released."""
    return await _decide(
        request,
        session,
        settlement,
        settings,
        SettlementCancel,
        partial(settlements_api.cancel, principal, session, settlement),
        lambda: Flash(N_("The draft is cancelled; its items go into the next one generated.")),
    )


@router.post("/{settlement_id}/resolve")
async def resolve(
    request: Request,
    principal: Finance,
    settlement: AnySettlement,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Resolve a dispute (``POST /v1/admin/settlements/{id}/resolve``): uphold or cancel it."""
    return await _decide(
        request,
        session,
        settlement,
        settings,
        SettlementResolve,
        partial(settlements_api.resolve, principal, session, settlement),
        lambda: Flash(
            N_("The settlement stands and may be paid.")
            if settlement.status == SettlementStatus.approved
            else N_("The settlement is cancelled; its items go into the next one generated.")
        ),
    )
