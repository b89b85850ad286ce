"""Load-and-authorise dependencies: an application is the owner enterprise's, or the authority's."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Path, Request
from sqlalchemy.ext.asyncio import AsyncSession

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

Found = TypeVar("Found")

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


async def get_or_404(session: AsyncSession, model: type[Found], object_id: uuid.UUID) -> Found:
    """The object, or the uniform "not found" (for callers who act on any organisation's)."""
    found = await session.get(model, object_id)
    if found is None:
        raise NotFound()
    return found


async def application_for_authority(
    _principal: ReviewReader, session: SessionDep, application_id: Annotated[uuid.UUID, Path()]
) -> Application:
    """Any application, for those who review."""
    return await get_or_404(session, Application, application_id)


async def application_to_decide(
    _principal: Reviewer, session: SessionDep, application_id: Annotated[uuid.UUID, Path()]
) -> Application:
    return await get_or_404(session, Application, application_id)


async def own_enterprise(principal: EnterpriseUser, session: SessionDep) -> Organisation:
    organisation = await session.get(Organisation, principal.organisation_id)
    if organisation is None:  # pragma: no cover - the principal was loaded with it
        raise NotFound()
    return organisation


def may_read(principal: Principal, attachment: Attachment) -> bool:
    """Attachments are for the owner enterprise's people and the authority's."""
    if principal.organisation_kind == OrganisationKind.authority:
        return True
    return principal.organisation_kind == OrganisationKind.enterprise and principal.owns(
        attachment.organisation_id
    )


async def readable_attachment(
    request: Request,
    principal: Principal,
    session: AsyncSession,
    attachment_id: uuid.UUID,
    belongs: Callable[[Attachment], bool],
) -> Attachment:
    """The attachment if it ``belongs`` where the path says and the caller may read it; else 404."""
    attachment = await session.get(Attachment, attachment_id)
    if attachment is None or not belongs(attachment):
        raise NotFound()
    if not may_read(principal, attachment):
        raise await refuse_not_found(request, principal, ("attachment", attachment_id))
    return attachment


async def attachment_for_reader(
    request: Request,
    principal: CurrentUser,
    session: SessionDep,
    application_id: Annotated[uuid.UUID, Path()],
    attachment_id: Annotated[uuid.UUID, Path()],
) -> Attachment:
    """An application's attachment, for the owner enterprise and the authority."""
    return await readable_attachment(
        request,
        principal,
        session,
        attachment_id,
        lambda found: found.application_id == application_id,
    )


EnterpriseApplication = Annotated[Application, Depends(application_for_enterprise)]
AuthorityApplication = Annotated[Application, Depends(application_for_authority)]
ApplicationToDecide = Annotated[Application, Depends(application_to_decide)]
OwnEnterprise = Annotated[Organisation, Depends(own_enterprise)]
ReadableAttachment = Annotated[Attachment, Depends(attachment_for_reader)]
