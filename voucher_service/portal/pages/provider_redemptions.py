"""The provider's redemptions: figures (today, this month, open holds) and the latest ones.
The same rows as ``GET /v1/provider/redemptions``, for the provider's operators."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any

from fastapi import Query, Request
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from starlette.responses import Response

from voucher_service.auth.dependencies import ProviderOperator
from voucher_service.dependencies import SessionDep
from voucher_service.portal import forms
from voucher_service.portal.forms import Form
from voucher_service.portal.routing import portal_router
from voucher_service.portal.templating import SHANGHAI, portal_language, render
from voucher_service.redemptions.models import Redemption, RedemptionStatus
from voucher_service.vouchers.codes import display

router = portal_router("/provider")


async def captured_since(
    session: AsyncSession, provider_id: object, since: datetime
) -> tuple[int, int]:
    """(count, value less refunds) of the provider's redemptions captured since ``since``."""
    row = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(Redemption.captured_amount - Redemption.refunded_amount), 0),
            ).where(
                col(Redemption.provider_id) == provider_id, col(Redemption.captured_at) >= since
            )
        )
    ).one()
    return int(row[0]), int(row[1])


async def redemption_figures(session: AsyncSession, provider_id: object) -> dict[str, Any]:
    """(count, amount) captured today and this month (Beijing time), and of the open holds."""
    today = datetime.combine(datetime.now(SHANGHAI).date(), time(), SHANGHAI)
    holds = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(Redemption.covered_amount), 0)).where(
                col(Redemption.provider_id) == provider_id,
                col(Redemption.status) == RedemptionStatus.authorized,
            )
        )
    ).one()
    return {
        "today": await captured_since(session, provider_id, today),
        "month": await captured_since(session, provider_id, today.replace(day=1)),
        "holds": (int(holds[0]), int(holds[1])),
    }


@router.get("/redemptions")
async def redemptions(
    request: Request,
    principal: ProviderOperator,
    session: SessionDep,
    cursor: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    provider_id = principal.organisation_id
    form = Form()
    query = select(Redemption).where(col(Redemption.provider_id) == provider_id)
    rows, next_cursor = await forms.keyset_page(
        session, form, portal_language(request), query, Redemption.id, cursor
    )
    context = {
        **await redemption_figures(session, provider_id),
        "rows": rows,
        "display": display,
        "next_cursor": next_cursor,
        "form": form,
    }
    return render(request, "provider/redemptions.html", context)
