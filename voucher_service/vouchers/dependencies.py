"""Load-and-authorise dependencies for vouchers."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path, Request

from voucher_service.auth.dependencies import AuthorityUser, EnterpriseUser, load_owned
from voucher_service.dependencies import SessionDep
from voucher_service.vouchers.errors import VoucherNotFound
from voucher_service.vouchers.models import Voucher


async def valid_voucher_for_holder(
    request: Request,
    principal: EnterpriseUser,
    session: SessionDep,
    voucher_id: Annotated[uuid.UUID, Path()],
) -> Voucher:
    """The voucher if the caller's enterprise holds it; another's is the same 404 as none."""
    return await load_owned(
        request, session, principal, Voucher, voucher_id, owner=lambda v: v.holder_id
    )


async def voucher_for_authority(
    _principal: AuthorityUser, session: SessionDep, voucher_id: Annotated[uuid.UUID, Path()]
) -> Voucher:
    """Any voucher, for authority users (who act by function, not by ownership)."""
    voucher = await session.get(Voucher, voucher_id)
    if voucher is None:
        raise VoucherNotFound()
    return voucher


HeldVoucher = Annotated[Voucher, Depends(valid_voucher_for_holder)]
AnyVoucher = Annotated[Voucher, Depends(voucher_for_authority)]
