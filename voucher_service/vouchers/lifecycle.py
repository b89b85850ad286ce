"""Changes of a voucher's state and bindings: by the authority (freeze, unfreeze, revoke), by the
holder (authorise or withdraw a provider), and by time (expire, see ``jobs``).

Each locks the voucher row first, checks, changes, audits and tells the bound providers
(``voucher.*`` webhook events) in the caller's unit of work. Revocation and expiry return the
voucher's available remainder to its programme through the ledger.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ledger.sqltypes import db_now, utcnow
from providers.registry import service as registry
from providers.webhooks import emit
from voucher_service.audit import service as audit
from voucher_service.programs import service as programs
from voucher_service.programs.errors import ProviderNotEligible
from voucher_service.vouchers import service as vouchers
from voucher_service.vouchers.errors import (
    HolderProvidersNotAllowed,
    ProviderNotBound,
    VoucherNotFound,
    VoucherStateConflict,
)
from voucher_service.vouchers.models import (
    FINAL_STATES,
    BindingSource,
    Voucher,
    VoucherProvider,
    VoucherState,
)
from voucher_service.vouchers.service import Actor


async def _locked(session: AsyncSession, voucher: Voucher) -> Voucher:
    locked = await vouchers.get_voucher(session, voucher.id, for_update=True)
    if locked is None:  # pragma: no cover - loaded by the caller in this unit of work
        raise VoucherNotFound()
    return locked


def _expect(voucher: Voucher, *states: VoucherState) -> None:
    if voucher.state not in states:
        raise VoucherStateConflict(
            f"The voucher is {voucher.state}; this needs {' or '.join(states)}.",
            detail_zh=f"券当前状态为 {voucher.state}，不允许此操作。",
            state=voucher.state,
        )


async def _tell_providers(
    session: AsyncSession, voucher: Voucher, event_type: str, reason: str | None
) -> None:
    balance = await vouchers.balance_of(session, voucher)
    data = vouchers.event_data(voucher, balance.available, reason)
    for provider_id in await vouchers.bound_provider_ids(session, voucher.id):
        emit(session, provider_id, event_type, data)


async def _change_state(
    session: AsyncSession,
    voucher: Voucher,
    state: VoucherState,
    *,
    reason: str | None,
    actor: Actor,
    action: str,
    extra: dict[str, object] | None = None,
) -> Voucher:
    before = voucher.state
    voucher.state, voucher.state_reason, voucher.state_changed_at = state, reason, utcnow()
    session.add(voucher)
    await session.flush()
    await audit.record(
        session,
        action=action,
        actor=actor,
        target=("voucher", voucher.id),
        before={"state": before},
        after={"state": state, **(extra or {})},
        reason=reason,
    )
    return voucher


async def freeze(session: AsyncSession, voucher: Voucher, *, reason: str, actor: Actor) -> Voucher:
    """Stop all redemption until unfrozen (the value stays on the voucher)."""
    voucher = await _locked(session, voucher)
    _expect(voucher, VoucherState.active, VoucherState.exhausted)
    await _change_state(
        session, voucher, VoucherState.frozen, reason=reason, actor=actor, action="voucher.frozen"
    )
    await _tell_providers(session, voucher, "voucher.frozen", reason)
    return voucher


async def unfreeze(
    session: AsyncSession, voucher: Voucher, *, reason: str, actor: Actor
) -> Voucher:
    """Lift a freeze: active again (exhausted if nothing is left)."""
    voucher = await _locked(session, voucher)
    _expect(voucher, VoucherState.frozen)
    await _change_state(
        session,
        voucher,
        VoucherState.active,
        reason=reason,
        actor=actor,
        action="voucher.unfrozen",
    )
    await vouchers.mark_exhausted_if_empty(session, voucher)
    await _tell_providers(session, voucher, "voucher.unfrozen", reason)
    return voucher


async def revoke(session: AsyncSession, voucher: Voucher, *, reason: str, actor: Actor) -> Voucher:
    """Revoke for good; the available remainder goes back to the programme."""
    voucher = await _locked(session, voucher)
    _expect(voucher, VoucherState.active, VoucherState.frozen, VoucherState.exhausted)
    returned = await vouchers.return_remainder(session, voucher, occasion="revoke")
    await _change_state(
        session,
        voucher,
        VoucherState.revoked,
        reason=reason,
        actor=actor,
        action="voucher.revoked",
        extra={"returned_amount": returned},
    )
    await _tell_providers(session, voucher, "voucher.revoked", reason)
    return voucher


async def expire_if_due(session: AsyncSession, voucher_id: uuid.UUID) -> int | None:
    """Expire the voucher if it is past ``valid_until`` by the database clock.

    Returns the remainder returned to the programme, or None when there was nothing to do (not
    yet due, already final, or locked by another worker).
    """
    query = (
        select(Voucher)
        .where(
            col(Voucher.id) == voucher_id,
            col(Voucher.state).not_in(FINAL_STATES),
            col(Voucher.valid_until) <= db_now(),
        )
        .with_for_update(skip_locked=True)
    )
    voucher = (await session.execute(query)).scalar_one_or_none()
    if voucher is None:
        return None
    returned = await vouchers.return_remainder(session, voucher, occasion="expire")
    await _change_state(
        session,
        voucher,
        VoucherState.expired,
        reason="validity ended",
        actor=audit.AuditActor.system("vouchers.expire"),
        action="voucher.expired",
        extra={"returned_amount": returned},
    )
    await _tell_providers(session, voucher, "voucher.expired", None)
    return returned


async def due_for_expiry(session: AsyncSession, *, limit: int) -> list[uuid.UUID]:
    """Ids of vouchers past their validity (database clock) and not yet final, oldest first."""
    rows = await session.scalars(
        select(Voucher.id)
        .where(
            col(Voucher.state).not_in(FINAL_STATES),
            col(Voucher.valid_until) <= db_now(),
        )
        .order_by(col(Voucher.valid_until))
        .limit(limit)
    )
    return list(rows)


async def authorise_provider(
    session: AsyncSession, voucher: Voucher, provider_id: uuid.UUID, *, actor: Actor
) -> VoucherProvider:
    """The holder lets another approved provider of the programme redeem the voucher."""
    voucher = await _locked(session, voucher)
    _expect(voucher, VoucherState.active, VoucherState.exhausted)
    binding = await _binding(session, voucher.id, provider_id)
    program = await programs.get_program(session, voucher.program_id)
    from_contract = binding is not None and binding.source == BindingSource.contract
    if not program.allow_holder_providers and not from_contract:
        raise HolderProvidersNotAllowed(
            "This programme lets only the contract's provider redeem its vouchers.",
            detail_zh="本项目的券只能由合同约定的服务商核销。",
        )
    if not await programs.is_eligible_provider(session, program.id, provider_id):
        raise ProviderNotEligible(
            "The provider is not on this programme's list.", detail_zh="该服务商不在本项目名单内。"
        )
    profile = await registry.require_redeemable(session, provider_id)
    if not profile.sells(voucher.kind):
        raise ProviderNotEligible(
            f"The provider does not sell {voucher.kind} services.",
            detail_zh="该服务商不提供此类服务。",
        )
    if binding is not None and binding.revoked_at is None:
        return binding
    if binding is None:
        binding = VoucherProvider(
            voucher_id=voucher.id,
            provider_id=provider_id,
            source=BindingSource.holder,
            created_by_id=getattr(actor, "id", None),
        )
    binding.revoked_at, binding.revoked_reason = None, None
    session.add(binding)
    await session.flush()
    await audit.record(
        session,
        action="voucher.provider_authorised",
        actor=actor,
        target=("voucher", voucher.id),
        after={"provider_id": str(provider_id), "source": binding.source},
    )
    balance = await vouchers.balance_of(session, voucher)
    emit(session, provider_id, "voucher.bound", vouchers.event_data(voucher, balance.available))
    return binding


async def withdraw_provider(
    session: AsyncSession,
    voucher: Voucher,
    provider_id: uuid.UUID,
    *,
    actor: Actor,
    reason: str | None = None,
) -> VoucherProvider:
    """The holder stops a provider redeeming the voucher; the provider hears ``voucher.frozen``."""
    voucher = await _locked(session, voucher)
    binding = await _binding(session, voucher.id, provider_id)
    if binding is None or binding.revoked_at is not None:
        raise ProviderNotBound()
    why = reason or "authorisation withdrawn by the holder"
    binding.revoked_at, binding.revoked_reason = utcnow(), why
    session.add(binding)
    await session.flush()
    await audit.record(
        session,
        action="voucher.provider_withdrawn",
        actor=actor,
        target=("voucher", voucher.id),
        before={"provider_id": str(provider_id), "source": binding.source},
        reason=why,
    )
    balance = await vouchers.balance_of(session, voucher)
    data = vouchers.event_data(voucher, balance.available, why) | {"status": "frozen"}
    emit(session, provider_id, "voucher.frozen", data)
    return binding


async def _binding(
    session: AsyncSession, voucher_id: uuid.UUID, provider_id: uuid.UUID
) -> VoucherProvider | None:
    query = select(VoucherProvider).where(
        col(VoucherProvider.voucher_id) == voucher_id,
        col(VoucherProvider.provider_id) == provider_id,
    )
    return (await session.execute(query)).scalar_one_or_none()


async def bindings(session: AsyncSession, voucher_id: uuid.UUID) -> list[VoucherProvider]:
    """Every binding of the voucher (withdrawn ones too), oldest first."""
    query = select(VoucherProvider).where(col(VoucherProvider.voucher_id) == voucher_id)
    return list(await session.scalars(query.order_by(col(VoucherProvider.id))))
