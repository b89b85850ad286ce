"""The startup's vouchers: each with its balance, every ledger movement, a chart of its use over
time, and the providers that may redeem it (the rules of ``/v1/vouchers``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Annotated

from fastapi import Query, Request
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from starlette.responses import Response

from voucher_service.auth.dependencies import EnterpriseOwner, EnterpriseUser
from voucher_service.dependencies import SessionDep
from voucher_service.kit.i18n import Language
from voucher_service.kit.pagination import InvalidCursor
from voucher_service.portal import charts, forms
from voucher_service.portal.flash import Flash
from voucher_service.portal.forms import Form
from voucher_service.portal.i18n import N_, translate
from voucher_service.portal.navigation import roles_of
from voucher_service.portal.pages.apply import approved_providers
from voucher_service.portal.routing import portal_router
from voucher_service.portal.templating import SHANGHAI, portal_language, redirect, render, yuan
from voucher_service.programs import service as programs
from voucher_service.vouchers import lifecycle, views
from voucher_service.vouchers.codes import display
from voucher_service.vouchers.dependencies import HeldVoucher
from voucher_service.vouchers.models import Voucher
from voucher_service.vouchers.schemas import MovementOut, VoucherOut

router = portal_router("/enterprise/vouchers")
VOUCHERS = "/portal/enterprise/vouchers"
CHART_MOVEMENTS = 500  # the chart reads at most this many movements (a voucher has far fewer)


async def held_vouchers(session: AsyncSession, organisation_id: uuid.UUID) -> list[VoucherOut]:
    """The enterprise's vouchers with their balances, newest first."""
    rows = await session.scalars(
        select(Voucher)
        .where(col(Voucher.holder_id) == organisation_id)
        .order_by(col(Voucher.id).desc())
        .limit(100)
    )
    return [await views.detail(session, row, VoucherOut) for row in rows]


@router.get("")
async def voucher_list(
    request: Request, principal: EnterpriseUser, session: SessionDep
) -> Response:
    items = await held_vouchers(session, principal.organisation_id)
    names = {
        p: (await programs.get_program(session, p)).name for p in {v.program_id for v in items}
    }
    return render(request, "enterprise/vouchers.html", {"items": items, "programs": names})


def usage_chart(movements: Sequence[MovementOut], issued: int, lang: Language) -> charts.Chart:
    """Balance and value used, at the end of each day with a posted movement (oldest first)."""
    by_day: dict[date, int] = {}
    for line in sorted(movements, key=lambda m: (m.created_at, m.position)):
        if line.phase != "posted":
            continue
        day = line.created_at.astimezone(SHANGHAI).date()
        change = line.amount if line.direction == "in" else -line.amount
        by_day[day] = by_day.get(day, 0) + change
    balance, days, balances, used = 0, [], [], []
    for day in sorted(by_day):
        balance += by_day[day]
        days.append(day.isoformat())
        balances.append(balance)
        used.append(max(issued - balance, 0))
    return charts.line_chart(
        "usage",
        translate(lang, N_("Balance and use over time")),
        translate(lang, N_("The voucher's balance and the value used, at the end of each day.")),
        label_header=translate(lang, N_("Day")),
        labels=days,
        series=[
            charts.Series(translate(lang, N_("Balance")), balances),
            charts.Series(translate(lang, N_("Used")), used),
        ],
        area=True,
        value_format=yuan,
        axis_format=charts.compact_yuan(lang),
    )


async def _detail_page(
    request: Request,
    session: AsyncSession,
    principal: EnterpriseUser,
    voucher: Voucher,
    cursor: str,
    form: Form,
    status: int = 200,
) -> Response:
    language = portal_language(request)
    shown = await views.detail(session, voucher, VoucherOut)
    try:
        page = await views.movements(session, voucher, limit=50, cursor=cursor or None)
    except InvalidCursor:
        page = await views.movements(session, voucher, limit=50, cursor=None)
    history = await views.movements(session, voucher, limit=CHART_MOVEMENTS, cursor=None)
    program = await programs.get_program(session, voucher.program_id)
    bound = {b.provider_id for b in shown.providers or [] if b.revoked_at is None}
    can_manage = principal.role in roles_of(EnterpriseOwner)
    addable = []
    if can_manage and program.allow_holder_providers:
        addable = [
            (str(p.id), p.name)
            for p in await approved_providers(session, program)
            if p.id not in bound
        ]
    context = {
        "v": shown,
        "code": display(shown.code),
        "program": program,
        "movements": page.items,
        "next_cursor": page.next_cursor,
        "chart": usage_chart(history.items, voucher.issued_amount, language),
        "can_manage": can_manage,
        "addable": addable,
        "form": form,
    }
    return render(request, "enterprise/voucher.html", context, status=status)


@router.get("/{voucher_id}")
async def voucher_detail(
    request: Request,
    principal: EnterpriseUser,
    voucher: HeldVoucher,
    session: SessionDep,
    cursor: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    return await _detail_page(request, session, principal, voucher, cursor, Form())


@router.post("/{voucher_id}/providers")
async def authorise(
    request: Request, principal: EnterpriseOwner, voucher: HeldVoucher, session: SessionDep
) -> Response:
    """Authorise another approved provider (``POST /v1/vouchers/{id}/providers``' service)."""
    form, language = await forms.read(request), portal_language(request)
    provider_id = forms.parse_uuid(form, "provider_id", language)
    if provider_id is None:
        form.errors.setdefault("provider_id", translate(language, N_("Choose one of the options.")))
        return await _detail_page(request, session, principal, voucher, "", form, 422)
    try:
        await forms.attempt(
            session,
            lambda: lifecycle.authorise_provider(session, voucher, provider_id, actor=principal),
        )
    except forms.Refused as refused:
        forms.place(form, refused.reason, language)
        return await _detail_page(request, session, principal, voucher, "", form, 422)
    return redirect(
        request, f"{VOUCHERS}/{voucher.id}", Flash(N_("The provider may now redeem this voucher."))
    )


@router.post("/{voucher_id}/providers/{provider_id}/withdraw")
async def withdraw(
    request: Request,
    principal: EnterpriseOwner,
    voucher: HeldVoucher,
    session: SessionDep,
    provider_id: uuid.UUID,
) -> Response:
    """Withdraw a provider's authorisation (``DELETE /v1/vouchers/{id}/providers/{pid}``)."""
    target = f"{VOUCHERS}/{voucher.id}"
    try:
        await forms.attempt(
            session,
            lambda: lifecycle.withdraw_provider(session, voucher, provider_id, actor=principal),
        )
    except forms.Refused as refused:
        text = forms.problem_message(portal_language(request), refused.reason)
        return redirect(request, target, Flash(text, kind="bad", literal=True))
    return redirect(request, target, Flash(N_("The provider can no longer redeem this voucher.")))
