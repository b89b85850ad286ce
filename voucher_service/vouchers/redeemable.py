"""Whether a provider may redeem a voucher now, and if not, why (a stable problem code)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ledger.sqltypes import db_now
from providers.registry.models import ProviderProfile, ProviderState
from voucher_service.programs.models import ProgramMode
from voucher_service.vouchers.models import Voucher, VoucherProvider, VoucherState


async def redeemability(
    session: AsyncSession, voucher: Voucher, provider_id: uuid.UUID
) -> str | None:
    """Why ``provider_id`` may not redeem ``voucher`` now (a problem code), or None if it may.

    Checks, in order: point-of-sale mode, state, validity (database clock), the provider bound
    and not withdrawn, the provider approved (not suspended), and that it sells the voucher's
    kind.
    """
    if voucher.mode != ProgramMode.point_of_sale:
        return "voucher_not_redeemable"
    if voucher.state != VoucherState.active:
        return f"voucher_{voucher.state}"
    query = (
        sa.select(
            col(ProviderProfile.state),
            col(ProviderProfile.services),
            db_now() >= voucher.valid_from,
            db_now() < voucher.valid_until,
        )
        .select_from(VoucherProvider)
        .join(
            ProviderProfile,
            col(ProviderProfile.organisation_id) == col(VoucherProvider.provider_id),
            isouter=True,
        )
        .where(
            col(VoucherProvider.voucher_id) == voucher.id,
            col(VoucherProvider.provider_id) == provider_id,
            col(VoucherProvider.revoked_at).is_(None),
        )
    )
    row = (await session.execute(query)).first()
    if row is None:
        return "provider_not_bound"
    state, services, started, not_ended = row
    if not started:
        return "voucher_not_yet_valid"
    if not not_ended:
        return "voucher_expired"
    if state == ProviderState.suspended:
        return "provider_suspended"
    if state != ProviderState.approved:
        return "provider_not_approved"
    if voucher.kind not in (services or []):
        return "voucher_wrong_kind"
    return None


async def may_redeem(session: AsyncSession, voucher: Voucher, provider_id: uuid.UUID) -> bool:
    """Whether ``provider_id`` may redeem ``voucher`` now (see :func:`redeemability`)."""
    return await redeemability(session, voucher, provider_id) is None
