"""What the holder and the authority see of a voucher: balance, bindings and ledger movements."""

from __future__ import annotations

from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

import ledger
from ledger.models import account
from voucher_service.kit.pagination import InvalidCursor
from voucher_service.organisations.models import Organisation
from voucher_service.vouchers import lifecycle
from voucher_service.vouchers import service as vouchers
from voucher_service.vouchers.models import Voucher
from voucher_service.vouchers.schemas import BindingOut, MovementOut, MovementPage, VoucherOut

Shape = TypeVar("Shape", bound=VoucherOut)


async def detail(session: AsyncSession, voucher: Voucher, model: type[Shape]) -> Shape:
    """The voucher with its balance and every binding (withdrawn ones too)."""
    balance = await vouchers.balance_of(session, voucher)
    bindings = await lifecycle.bindings(session, voucher.id)
    names = dict(
        (
            await session.execute(
                select(Organisation.id, Organisation.name).where(
                    col(Organisation.id).in_([binding.provider_id for binding in bindings])
                )
            )
        ).all()
    )
    providers = [
        BindingOut(
            provider_id=binding.provider_id,
            provider_name=names.get(binding.provider_id, ""),
            source=binding.source,
            created_at=binding.created_at,
            revoked_at=binding.revoked_at,
            revoked_reason=binding.revoked_reason,
        )
        for binding in bindings
    ]
    return model.of(
        voucher,
        available_amount=balance.available,
        on_hold_amount=balance.on_hold,
        providers=providers,
    )


async def movements(
    session: AsyncSession, voucher: Voucher, *, limit: int, cursor: str | None
) -> MovementPage:
    """One page of the voucher account's ledger movements, newest first (keyset)."""
    account_id = await session.scalar(
        sa.select(account.c.id).where(account.c.code == vouchers.voucher_account_code(voucher.id))
    )
    if account_id is None:
        return MovementPage(items=[])
    try:
        page = await ledger.statement(session, account_id, limit=limit, after=cursor)
    except ledger.InvalidRequest as exc:
        raise InvalidCursor("The cursor is not one this service returned.") from exc
    items = [
        MovementOut(
            transaction_id=line.transaction_id,
            position=line.position,
            created_at=line.created_at,
            kind=line.kind,
            direction="in" if line.side == "credit" else "out",
            phase=line.phase,
            amount=line.amount,
            reference=line.reference,
            related_id=line.related_id,
            details=line.details,
        )
        for line in page.lines
    ]
    return MovementPage(items=items, next_cursor=page.next_cursor)
