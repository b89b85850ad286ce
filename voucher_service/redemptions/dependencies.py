"""Who may call the redemption routes, and the load-and-authorise dependencies they use.

A provider's API client acts on its own provider's redemptions only: another provider's is "not
found" (audited), exactly like a missing one. The holder's people see their voucher's history.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path, Request

from voucher_service.auth.dependencies import EnterpriseUser, load_owned, requires_scopes
from voucher_service.auth.principal import Principal
from voucher_service.dependencies import SessionDep
from voucher_service.redemptions.models import Redemption
from voucher_service.vouchers.models import Voucher

VoucherReader = Annotated[Principal, requires_scopes("vouchers:read")]
RedemptionReader = Annotated[Principal, requires_scopes("redemptions:read")]
RedemptionWriter = Annotated[Principal, requires_scopes("redemptions:write")]
RedemptionId = Annotated[uuid.UUID, Path(description="the redemption's id")]


async def own_redemption(
    request: Request, principal: Principal, session: SessionDep, redemption_id: uuid.UUID
) -> Redemption:
    return await load_owned(
        request, session, principal, Redemption, redemption_id, owner=lambda r: r.provider_id
    )


async def readable_redemption(
    request: Request, principal: RedemptionReader, session: SessionDep, redemption_id: RedemptionId
) -> Redemption:
    """The redemption in the path, if it is the calling provider's."""
    return await own_redemption(request, principal, session, redemption_id)


async def writable_redemption(
    request: Request, principal: RedemptionWriter, session: SessionDep, redemption_id: RedemptionId
) -> Redemption:
    """The redemption in the path, if it is the calling provider's (which may change it)."""
    return await own_redemption(request, principal, session, redemption_id)


async def held_voucher(
    request: Request,
    principal: EnterpriseUser,
    session: SessionDep,
    voucher_id: Annotated[uuid.UUID, Path(description="the voucher's id")],
) -> Voucher:
    """The voucher in the path, if the caller's enterprise holds it."""
    return await load_owned(
        request, session, principal, Voucher, voucher_id, owner=lambda v: v.holder_id
    )


ReadableRedemption = Annotated[Redemption, Depends(readable_redemption)]
WritableRedemption = Annotated[Redemption, Depends(writable_redemption)]
HeldVoucher = Annotated[Voucher, Depends(held_voucher)]
