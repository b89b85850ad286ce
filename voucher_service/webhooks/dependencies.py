"""Who may call the webhook routes, and the load-and-authorise dependencies they use.

A provider manages its own webhooks: its operators (people, in the portal) and its API clients
holding ``webhooks:manage`` (automation). The authority reads delivery figures, dead letters and
delivery logs by function (program admins, finance, auditors, sysadmins); replaying is operations,
not money, so program admins and sysadmins may do it.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Body, Depends, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from providers.webhooks.models import WebhookEvent
from voucher_service.auth.dependencies import (
    AuthorityUser,
    load_owned,
    provider_operator_or_scopes,
    refuse_not_found,
    requires_roles,
)
from voucher_service.auth.errors import NotFound
from voucher_service.auth.principal import Principal
from voucher_service.dependencies import SessionDep
from voucher_service.organisations.models import Organisation, OrganisationKind
from voucher_service.users.models import Role
from voucher_service.webhooks.schemas import WebhookReplay

WEBHOOKS_SCOPE = "webhooks:manage"

WebhookManager = Annotated[Principal, provider_operator_or_scopes(WEBHOOKS_SCOPE)]
DeliveryReader = Annotated[
    Principal, requires_roles(Role.program_admin, Role.finance, Role.auditor, Role.sysadmin)
]
DeliveryOperator = Annotated[Principal, requires_roles(Role.program_admin, Role.sysadmin)]


async def own_event(
    request: Request, principal: Principal, session: SessionDep, event_id: uuid.UUID
) -> WebhookEvent:
    """An event of the caller's provider; another provider's is "not found" (audited)."""
    return await load_owned(
        request, session, principal, WebhookEvent, event_id, owner=lambda e: e.provider_id
    )


async def valid_event_for_provider(
    request: Request,
    principal: WebhookManager,
    session: SessionDep,
    event_id: Annotated[uuid.UUID, Path(description="the event's id (its webhook-id)")],
) -> WebhookEvent:
    """The event in the path, if it is the caller's provider's."""
    return await own_event(request, principal, session, event_id)


ReplayBody = Annotated[WebhookReplay | None, Body(description="omit to replay every dead letter")]


async def valid_replay_for_provider(
    request: Request, principal: WebhookManager, session: SessionDep, body: ReplayBody = None
) -> WebhookReplay:
    """A replay naming only the caller's provider's events: any other id is "not found"."""
    if body is None or body.event_ids is None:
        return WebhookReplay()
    await check_own_events(request, principal, session, body.event_ids)
    return body


async def check_own_events(
    request: Request, principal: Principal, session: AsyncSession, event_ids: list[uuid.UUID]
) -> None:
    """Refuse (404, audited) unless every id is an event of the caller's provider."""
    rows = await session.execute(
        select(col(WebhookEvent.id), col(WebhookEvent.provider_id)).where(
            col(WebhookEvent.id).in_(set(event_ids))
        )
    )
    owners = dict(rows.all())
    # Another provider's id is audited even when a missing id comes first in the list.
    foreign = [i for i in event_ids if i in owners and not principal.owns(owners[i])]
    if foreign:
        raise await refuse_not_found(request, principal, ("webhook_event", foreign[0]))
    if set(event_ids) - owners.keys():
        raise NotFound()


async def provider_for_authority(
    _principal: AuthorityUser,
    session: SessionDep,
    provider_id: Annotated[uuid.UUID, Path(description="the provider organisation's id")],
) -> Organisation:
    """A provider organisation (any), for authority users; anything else is "not found"."""
    organisation = await session.get(Organisation, provider_id)
    if organisation is None or organisation.kind != OrganisationKind.provider:
        raise NotFound()
    return organisation


OwnEvent = Annotated[WebhookEvent, Depends(valid_event_for_provider)]
OwnReplay = Annotated[WebhookReplay, Depends(valid_replay_for_provider)]
ProviderForAuthority = Annotated[Organisation, Depends(provider_for_authority)]


async def valid_event_filter(
    request: Request,
    principal: WebhookManager,
    session: SessionDep,
    event_id: Annotated[uuid.UUID | None, Query(description="only this event's attempts")] = None,
) -> uuid.UUID | None:
    """An event filter naming the caller's provider's event (another's is "not found")."""
    if event_id is not None:
        await own_event(request, principal, session, event_id)
    return event_id


EventFilter = Annotated[uuid.UUID | None, Depends(valid_event_filter)]
