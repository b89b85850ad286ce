"""Tells the redemptions domain whether a redemption's settlement is paid (refunds after that
are taken from the provider's receivable and clawed back from its next settlement)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from voucher_service.redemptions import hooks
from voucher_service.redemptions.models import Redemption, RedemptionStatus
from voucher_service.settlements import service


async def settlement_paid_for(session: AsyncSession, redemption: Redemption) -> bool:
    """Whether the ledger transaction that posted the redemption is in a paid settlement."""
    if redemption.status != RedemptionStatus.captured:
        return False
    return await service.is_settled_paid(session, redemption.receipt_transaction_id)


hooks.register_settled_paid_check(settlement_paid_for)
