"""Load-and-authorise dependencies: an application is the owner enterprise's, or the authority's."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path, Request

from voucher_service.applications.models import Application, Attachment
from voucher_service.auth.dependencies import (
    CurrentUser,
    EnterpriseUser,
    load_owned,
    refuse_not_found,
    requires_roles,
)
from voucher_service.auth.errors import NotFound
from voucher_service.auth.principal import Principal
from voucher_service.dependencies import SessionDep
from voucher_service.organisations.models import Organisation, OrganisationKind
from voucher_service.users.models import Role

#: Who reads the review queues and applications: reviewers, programme admins, auditors.
ReviewReader = Annotated[Principal, requires_roles(Role.reviewer, Role.program_admin, Role.auditor)]
#: Who decides on applications (never a sysadmin or an auditor).
Reviewer = Annotated[
    Principal, requires_roles(Role.reviewer, Role.program_admin, approves_money=True)
]
#: Who closes a pro-rata batch (it issues vouchers).
BatchCloser = Annotated[Principal, requires_roles(Role.program_admin, approves_money=True)]


async def application_for_enterprise(
    request: Request,
    principal: EnterpriseUser,
    session: SessionDep,
    application_id: Annotated[uuid.UUID, Path()],
) -> Application:
    """One of the caller's enterprise's applications (another's is "not found")."""
    return await load_owned(
        request,
        session,
        principal,
        Application,
        application_id,
        owner=lambda found: found.enterprise_id,
    )


async def application_for_authority(
    _principal: ReviewReader, session: SessionDep, application_id: Annotated[uuid.UUID, Path()]
) -> Application:
    """Any application, for those who review."""
    application = await session.get(Application, application_id)
    if application is None:
        raise NotFound()
    return application


async def application_to_decide(
    _principal: Reviewer, session: SessionDep, application_id: Annotated[uuid.UUID, Path()]
) -> Application:
    application = await session.get(Application, application_id)
    if application is None:
        raise NotFound()
    return application


async def own_enterprise(principal: EnterpriseUser, session: SessionDep) -> Organisation:
    organisation = await session.get(Organisation, principal.organisation_id)
    if organisation is None:  # pragma: no cover - the principal was loaded with it
        raise NotFound()
    return organisation


async def attachment_for_reader(
    request: Request,
    principal: CurrentUser,
    session: SessionDep,
    application_id: Annotated[uuid.UUID, Path()],
    attachment_id: Annotated[uuid.UUID, Path()],
) -> Attachment:
    """An attachment, for the owner enterprise's people and the authority's; else 404."""
    attachment = await session.get(Attachment, attachment_id)
    if attachment is None or attachment.application_id != application_id:
        raise NotFound()
    if principal.organisation_kind == OrganisationKind.authority:
        return attachment
    if principal.organisation_kind == OrganisationKind.enterprise and principal.owns(
        attachment.organisation_id
    ):
        return attachment
    raise await refuse_not_found(request, principal, ("attachment", attachment_id))


EnterpriseApplication = Annotated[Application, Depends(application_for_enterprise)]
AuthorityApplication = Annotated[Application, Depends(application_for_authority)]
ApplicationToDecide = Annotated[Application, Depends(application_to_decide)]
OwnEnterprise = Annotated[Organisation, Depends(own_enterprise)]
ReadableAttachment = Annotated[Attachment, Depends(attachment_for_reader)]
