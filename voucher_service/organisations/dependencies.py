"""Load-and-authorise dependencies for organisations."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path

from voucher_service.auth.dependencies import AuthorityUser, CurrentPrincipal, requires_roles
from voucher_service.auth.errors import NotFound
from voucher_service.auth.principal import Principal
from voucher_service.dependencies import SessionDep
from voucher_service.organisations.models import Organisation
from voucher_service.users.models import Role

#: Who may register an organisation of any kind: program admins and system administrators.
OrganisationRegistrar = Annotated[Principal, requires_roles(Role.program_admin, Role.sysadmin)]


async def own_organisation(principal: CurrentPrincipal, session: SessionDep) -> Organisation:
    """The caller's own organisation."""
    organisation = await session.get(Organisation, principal.organisation_id)
    if organisation is None:  # pragma: no cover - the principal was loaded with it
        raise NotFound()
    return organisation


async def organisation_for_authority(
    _principal: AuthorityUser,
    session: SessionDep,
    organisation_id: Annotated[uuid.UUID, Path()],
) -> Organisation:
    """Any organisation, for authority users (who act by function, not by ownership)."""
    organisation = await session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound()
    return organisation


OwnOrganisation = Annotated[Organisation, Depends(own_organisation)]
OrganisationForAuthority = Annotated[Organisation, Depends(organisation_for_authority)]
