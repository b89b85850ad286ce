"""What each settlement item pays for: the redemption (with the provider's order id) or the
claim behind its ledger transaction, so a payee can match the items to its own books."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from voucher_service.claims.models import Claim
from voucher_service.kit.pagination import PageParams, paginate
from voucher_service.redemptions.models import Redemption, Refund
from voucher_service.settlements.models import SettlementItem
from voucher_service.settlements.schemas import SettlementItemPublic


@dataclass(frozen=True)
class Origin:
    redemption_id: uuid.UUID | None = None
    order_id: str | None = None
    claim_id: uuid.UUID | None = None


#: An item with nothing behind it but the ledger (a transfer posted by hand, say).
NONE = Origin()


async def origins_of(
    session: AsyncSession, transaction_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Origin]:
    """The origin of each of these ledger transactions that has one: a captured redemption (at
    once, or the capture of its hold), a refund of one (the redemption it refunds), or a paid
    claim. Three indexed lookups, whatever the number of ids."""
    wanted = set(transaction_ids)
    if not wanted:
        return {}
    found: dict[uuid.UUID, Origin] = {}
    authorised, resolved = (
        col(Redemption.authorization_transaction_id),
        col(Redemption.resolution_transaction_id),
    )
    redemptions = select(authorised, resolved, col(Redemption.id), col(Redemption.order_id))
    for *transactions, redemption_id, order_id in await session.execute(
        redemptions.where(sa.or_(authorised.in_(wanted), resolved.in_(wanted)))
    ):
        for transaction_id in transactions:
            if transaction_id in wanted:
                found[transaction_id] = Origin(redemption_id, order_id)
    refunds = (
        select(col(Refund.ledger_transaction_id), col(Redemption.id), col(Redemption.order_id))
        .join(Redemption, col(Redemption.id) == col(Refund.redemption_id))
        .where(col(Refund.ledger_transaction_id).in_(wanted))
    )
    for transaction_id, redemption_id, order_id in await session.execute(refunds):
        found[transaction_id] = Origin(redemption_id, order_id)
    claims = select(col(Claim.transaction_id), col(Claim.id)).where(
        col(Claim.transaction_id).in_(wanted)
    )
    for transaction_id, claim_id in await session.execute(claims):
        if transaction_id is not None:  # always, by the query
            found[transaction_id] = Origin(claim_id=claim_id)
    return found


async def item_page(
    session: AsyncSession, settlement_id: uuid.UUID, params: PageParams
) -> tuple[list[SettlementItemPublic], str | None]:
    """A page of the settlement's items in ledger order, as the API and the portal show them:
    each with its origin; and the cursor of the next page."""
    query = select(SettlementItem).where(col(SettlementItem.settlement_id) == settlement_id)
    rows, cursor = await paginate(
        session,
        query,
        SettlementItem.source_id,  # type: ignore[arg-type]
        params,
        newest_first=False,
    )
    found = await origins_of(session, [item.source_id for item in rows])
    items = [
        SettlementItemPublic(
            source_kind=item.source_kind,
            source_id=item.source_id,
            kind=item.kind,
            amount=item.amount,
            **vars(found.get(item.source_id, NONE)),
        )
        for item in rows
    ]
    return items, cursor
