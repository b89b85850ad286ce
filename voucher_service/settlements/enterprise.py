"""``/v1/settlements``: an enterprise's reimbursement settlements, read by its people.

An enterprise is paid what the authority approved on its claims, settled like a provider's
redemptions (``settlements.service``). Its owner and members read the settlements issued to it,
with each item's claim; another enterprise's, or a draft, is "not found" (audited). There is
nothing to confirm: the claims were approved one by one on their invoices.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from voucher_service.auth.dependencies import EnterpriseUser
from voucher_service.dependencies import SessionDep
from voucher_service.idempotency import IdempotentRoute
from voucher_service.kit.pagination import Page, PageParamsDep
from voucher_service.kit.problems import problem_responses
from voucher_service.settlements.models import Settlement
from voucher_service.settlements.router import ON_ONE, items_page, payee_page, payee_settlement
from voucher_service.settlements.schemas import SettlementItemPublic, SettlementPublic

router = APIRouter(
    prefix="/v1/settlements", tags=["enterprise settlements"], route_class=IdempotentRoute
)


async def _held_settlement(
    request: Request, principal: EnterpriseUser, session: SessionDep, settlement_id: uuid.UUID
) -> Settlement:
    return await payee_settlement(request, principal, session, settlement_id)


HeldSettlement = Annotated[Settlement, Depends(_held_settlement)]


@router.get("", summary="The enterprise's settlements", responses=problem_responses(401, 403))
async def enterprise_list(
    principal: EnterpriseUser, session: SessionDep, page: PageParamsDep
) -> Page[SettlementPublic]:
    return await payee_page(session, principal, page)


@router.get("/{settlement_id}", summary="One of the enterprise's settlements", responses=ON_ONE)
async def enterprise_get(settlement: HeldSettlement) -> SettlementPublic:
    return SettlementPublic.model_validate(settlement)


@router.get("/{settlement_id}/items", summary="Its items, each with its claim", responses=ON_ONE)
async def enterprise_items(
    session: SessionDep, settlement: HeldSettlement, page: PageParamsDep
) -> Page[SettlementItemPublic]:
    return await items_page(session, settlement, page)
