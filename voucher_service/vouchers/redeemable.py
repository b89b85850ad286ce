"""Whether a provider may redeem a voucher now, and if not, why (a stable problem code)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ledger.sqltypes import db_now
from providers.registry.models import ProviderProfile, ProviderState
from voucher_service.programs.models import PriceCeiling, ProgramMode
from voucher_service.vouchers.models import Voucher, VoucherProvider, VoucherState

#: A select of any columns (the redemption's adds the voucher entity and the price ceiling).
Query = sa.Select[*tuple[Any, ...]]


@dataclass(frozen=True)
class Standing:
    """What decides a redemption besides the voucher row: the provider's binding and status,
    and the voucher's dates by the database clock."""

    bound: bool
    provider_state: str | None
    services: list[str] | None
    started: bool
    not_ended: bool


def _binding(provider_id: Any) -> sa.ColumnElement[bool]:
    """The provider's live binding to the voucher (``provider_id``: a value or a bind parameter)."""
    return sa.and_(
        col(VoucherProvider.voucher_id) == col(Voucher.id),
        col(VoucherProvider.provider_id) == provider_id,
        col(VoucherProvider.revoked_at).is_(None),
    )


#: The columns of a ``Standing`` (the binding and profile outer-joined, so a voucher the provider
#: is not bound to still has its row).
_STANDING = (
    col(VoucherProvider.provider_id).is_not(None),
    col(ProviderProfile.state),
    col(ProviderProfile.services),
    db_now() >= col(Voucher.valid_from),
    db_now() < col(Voucher.valid_until),
)


def _with_standing(query: Query, provider_id: Any) -> Query:
    """``query`` with the binding and the provider's profile joined, as ``_STANDING`` reads them."""
    return query.outerjoin(VoucherProvider, _binding(provider_id)).outerjoin(
        ProviderProfile,
        col(ProviderProfile.organisation_id) == col(VoucherProvider.provider_id),
    )


def decide(voucher: Voucher, standing: Standing) -> str | None:
    """Why the provider may not redeem ``voucher`` (a problem code), or None if it may.

    In order: point-of-sale mode, state, the provider bound and not withdrawn, validity, the
    provider approved (not suspended), and that it sells the voucher's kind.
    """
    if voucher.mode != ProgramMode.point_of_sale:
        return "voucher_not_redeemable"
    if voucher.state != VoucherState.active:
        return f"voucher_{voucher.state}"
    if not standing.bound:
        return "provider_not_bound"
    if not standing.started:
        return "voucher_not_yet_valid"
    if not standing.not_ended:
        return "voucher_expired"
    if standing.provider_state == ProviderState.suspended:
        return "provider_suspended"
    if standing.provider_state != ProviderState.approved:
        return "provider_not_approved"
    if voucher.kind not in (standing.services or []):
        return "voucher_wrong_kind"
    return None


async def redeemability(
    session: AsyncSession, voucher: Voucher, provider_id: uuid.UUID
) -> str | None:
    """Why ``provider_id`` may not redeem ``voucher`` now (see :func:`decide`), or None."""
    query = _with_standing(sa.select(*_STANDING).select_from(Voucher), provider_id)
    row = (await session.execute(query.where(col(Voucher.id) == voucher.id))).one()
    return decide(voucher, Standing(*row))


@dataclass(frozen=True)
class Redeemable:
    """A voucher found by its code, why the provider may not redeem it (or None), whether the
    provider is bound to it, and the programme's unit price ceiling for the resource asked about
    (None: no ceiling)."""

    voucher: Voucher
    refusal: str | None
    bound: bool
    max_unit_price: int | None


def _by_code(*, priced: bool) -> Query:
    """The voucher by ``:code`` with its standing for ``:provider_id`` and (priced) the price
    ceiling for ``:resource`` per ``:unit``: built once, so a request only binds values."""
    columns = [col(PriceCeiling.max_unit_price_amount) if priced else sa.null()]
    query = _with_standing(sa.select(Voucher, *_STANDING, *columns), sa.bindparam("provider_id"))
    if priced:
        ceiling = sa.and_(
            col(PriceCeiling.program_id) == col(Voucher.program_id),
            col(PriceCeiling.resource) == sa.bindparam("resource"),
            col(PriceCeiling.unit) == sa.bindparam("unit"),
        )
        query = query.outerjoin(PriceCeiling, ceiling)
    return query.where(col(Voucher.code) == sa.bindparam("code"))


_BY_CODE = {priced: _by_code(priced=priced) for priced in (False, True)}


async def find_redeemable(
    session: AsyncSession,
    code: str,
    provider_id: uuid.UUID,
    priced: tuple[str, str] | None = None,
) -> Redeemable | None:
    """The voucher with the canonical ``code``, decided for ``provider_id``, and (``priced``:
    resource and unit) the programme's price ceiling: one statement, a redemption's first read."""
    values: dict[str, Any] = {"code": code, "provider_id": provider_id}
    if priced is not None:
        values["resource"], values["unit"] = priced
    row = (await session.execute(_BY_CODE[priced is not None], values)).first()
    if row is None:
        return None
    voucher: Voucher = row[0]
    standing = Standing(*row[1:-1])
    return Redeemable(voucher, decide(voucher, standing), standing.bound, row[-1])


async def may_redeem(session: AsyncSession, voucher: Voucher, provider_id: uuid.UUID) -> bool:
    """Whether ``provider_id`` may redeem ``voucher`` now (see :func:`redeemability`)."""
    return await redeemability(session, voucher, provider_id) is None
