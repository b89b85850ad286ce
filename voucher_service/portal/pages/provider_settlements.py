"""The provider's settlements: the list, one settlement with its items, confirm or dispute it
within the response window. The rules and loaders of ``/v1/provider/settlements``, for the
provider's operators (the portal is for people; API clients use the API)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from functools import partial
from typing import Annotated, Any

from fastapi import Query, Request
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from starlette.responses import Response

from ledger.sqltypes import utcnow
from voucher_service.auth.dependencies import ProviderOperator
from voucher_service.dependencies import SessionDep
from voucher_service.kit.i18n import Language
from voucher_service.organisations.models import Organisation
from voucher_service.portal import forms
from voucher_service.portal.flash import Flash
from voucher_service.portal.forms import Form
from voucher_service.portal.i18n import N_
from voucher_service.portal.routing import portal_router
from voucher_service.portal.templating import portal_language, redirect, render
from voucher_service.programs.models import Program
from voucher_service.settlements import origins
from voucher_service.settlements import router as settlements_api
from voucher_service.settlements.models import Settlement, SettlementStatus
from voucher_service.settlements.router import OwnSettlement
from voucher_service.settlements.schemas import SettlementDispute

router = portal_router("/provider/settlements")
SETTLEMENTS = "/portal/provider/settlements"
Cursor = Annotated[str, Query(max_length=64)]


async def names_of(
    session: AsyncSession, model: type[Program] | type[Organisation], ids: set[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The names of these programmes or organisations, by id (one query)."""
    if not ids:
        return {}
    rows = await session.execute(select(model.id, model.name).where(col(model.id).in_(ids)))
    return {row[0]: row[1] for row in rows}


async def list_context(
    session: AsyncSession, rows: Sequence[Settlement], next_cursor: str | None
) -> dict[str, Any]:
    """What a list of settlements shows beside each row: its programme's and payee's names."""
    return {
        "settlements": rows,
        "next_cursor": next_cursor,
        "programs": await names_of(session, Program, {s.program_id for s in rows}),
        "payees": await names_of(session, Organisation, {s.payee_id for s in rows}),
    }


async def items_context(
    session: AsyncSession, settlement: Settlement, cursor: str, form: Form, language: Language
) -> dict[str, Any]:
    """One settlement with a page of its items (in ledger order) and its names."""
    params = forms.page_params(cursor, form, language, size=100)
    items, next_cursor = await origins.item_page(session, settlement.id, params)
    program = await session.get(Program, settlement.program_id)
    payee = await session.get(Organisation, settlement.payee_id)
    return {
        "settlement": settlement,
        "items": items,
        "next_cursor": next_cursor,
        "program_name": program.name if program else "",
        "payee_name": payee.name if payee else "",
        "form": form,
    }


async def awaiting_response(session: AsyncSession, provider_id: uuid.UUID) -> int:
    """How many of the provider's settlements wait for it to confirm or dispute (window open)."""
    count = await session.scalar(
        select(func.count()).where(
            col(Settlement.payee_id) == provider_id,
            col(Settlement.status) == SettlementStatus.approved,
            col(Settlement.confirmed_at).is_(None),
            col(Settlement.respond_by) >= utcnow(),
        )
    )
    return int(count or 0)


@router.get("")
async def settlement_list(
    request: Request, principal: ProviderOperator, session: SessionDep, cursor: Cursor = ""
) -> Response:
    """The provider's settlements (issued to it: never drafts), newest first."""
    form, language = Form(), portal_language(request)
    query = select(Settlement).where(
        col(Settlement.payee_id) == principal.organisation_id,
        col(Settlement.status) != SettlementStatus.draft,
    )
    rows, next_cursor = await forms.keyset_page(
        session, form, language, query, Settlement.id, cursor
    )
    context = {**await list_context(session, rows, next_cursor), "form": form}
    return render(request, "settlements/provider_list.html", context)


async def _detail_page(
    request: Request, session: AsyncSession, settlement: Settlement, form: Form, cursor: str = ""
) -> Response:
    context = await items_context(session, settlement, cursor, form, portal_language(request))
    status = 422 if form.invalid else 200
    return render(request, "settlements/provider_detail.html", context, status=status)


@router.get("/{settlement_id}")
async def settlement_detail(
    request: Request,
    _principal: ProviderOperator,
    settlement: OwnSettlement,
    session: SessionDep,
    cursor: Cursor = "",
) -> Response:
    return await _detail_page(request, session, settlement, Form(), cursor)


async def _respond(
    request: Request,
    principal: ProviderOperator,
    session: AsyncSession,
    settlement: Settlement,
    reason: str | None,
) -> Response:
    """Confirm (no reason) or dispute the settlement: the API's own confirm and dispute routes
    (the service's rules and the audit event), undone whole if refused."""
    form, language = Form({"reason": reason or ""}), portal_language(request)
    if reason is None:
        action = partial(settlements_api.confirm, principal, session, settlement)
        message = N_("The settlement is confirmed.")
    else:
        body = SettlementDispute(reason=reason)
        action = partial(settlements_api.dispute, principal, session, settlement, body)
        message = N_("The settlement is disputed.")
    try:
        await forms.attempt(session, action)
    except forms.Refused as refused:
        forms.place(form, refused.reason, language)
        return await _detail_page(request, session, settlement, form)
    return redirect(request, f"{SETTLEMENTS}/{settlement.id}", Flash(message))


@router.post("/{settlement_id}/confirm")
async def confirm(
    request: Request, principal: ProviderOperator, settlement: OwnSettlement, session: SessionDep
) -> Response:
    """Confirm the amounts (``POST /v1/provider/settlements/{id}/confirm``)."""
    return await _respond(request, principal, session, settlement, None)


@router.post("/{settlement_id}/dispute")
async def dispute(
    request: Request, principal: ProviderOperator, settlement: OwnSettlement, session: SessionDep
) -> Response:
    """Dispute with a reason (``POST /v1/provider/settlements/{id}/dispute``)."""
    form, language = await forms.read(request), portal_language(request)
    data = {"reason": form.values.get("reason", "")}
    body = forms.validate(form, SettlementDispute, data, language)
    if body is None:
        return await _detail_page(request, session, settlement, form)
    return await _respond(request, principal, session, settlement, body.reason)
