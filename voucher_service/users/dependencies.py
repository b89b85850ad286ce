"""Load-and-authorise dependencies for users."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path, Request

from voucher_service.auth.dependencies import EnterpriseOwner, load_owned, requires_roles
from voucher_service.auth.errors import NotFound
from voucher_service.auth.principal import Principal
from voucher_service.dependencies import SessionDep
from voucher_service.users.models import Role, User


async def valid_member_for_owner(
    request: Request,
    principal: EnterpriseOwner,
    session: SessionDep,
    user_id: Annotated[uuid.UUID, Path()],
) -> User:
    """A user of the owner's own enterprise; anyone else's is "not found" (and audited)."""
    return await load_owned(request, session, principal, User, user_id, target_type="user")


#: Who may read any user: system administrators and auditors.
UserReader = Annotated[Principal, requires_roles(Role.sysadmin, Role.auditor)]


async def user_for_admin(
    _principal: UserReader,
    session: SessionDep,
    user_id: Annotated[uuid.UUID, Path()],
) -> User:
    """Any user, for system administrators and auditors."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound()
    return user


MemberOfMyEnterprise = Annotated[User, Depends(valid_member_for_owner)]
UserForAdmin = Annotated[User, Depends(user_for_admin)]
