"""``/v1/admin/webhooks``: delivery figures per provider, a provider's events and log, replay.

Reading: program admins, finance, auditors and sysadmins. Replaying (operations, not money):
program admins and sysadmins, audited like every replay.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from providers.webhooks.history import attempts_query, event_types_of, events_query
from providers.webhooks.models import WebhookAttempt, WebhookEvent
from voucher_service.dependencies import SessionDep
from voucher_service.idempotency import IdempotentRoute
from voucher_service.kit.pagination import Page, PageParamsDep, paginate
from voucher_service.kit.problems import problem_responses
from voucher_service.webhooks import service
from voucher_service.webhooks.dependencies import (
    DeliveryOperator,
    DeliveryReader,
    ProviderForAuthority,
    ReplayBody,
)
from voucher_service.webhooks.schemas import (
    DeliveryMetricsList,
    EventStatus,
    WebhookAttemptPublic,
    WebhookEventPublic,
    WebhookReplayed,
)

router = APIRouter(
    prefix="/v1/admin/webhooks", tags=["admin webhooks"], route_class=IdempotentRoute
)
ON_PROVIDER = problem_responses(400, 401, 403, 404, 422)


@router.get(
    "/metrics",
    summary="Delivery per provider: pending, retrying, delivered, dead-lettered, oldest pending",
    responses=problem_responses(401, 403, 422),
)
async def delivery_metrics(
    _principal: DeliveryReader,
    session: SessionDep,
    provider_id: Annotated[uuid.UUID | None, Query(description="one provider only")] = None,
) -> DeliveryMetricsList:
    """Every provider with events or an endpoint (a few hundred at most: not paginated)."""
    return DeliveryMetricsList(items=await service.provider_overview(session, provider_id))


@router.get(
    "/providers/{provider_id}/events",
    summary="A provider's events; `?status=dead` lists its dead letters",
    responses=ON_PROVIDER,
)
async def provider_events(
    _principal: DeliveryReader,
    provider: ProviderForAuthority,
    session: SessionDep,
    page: PageParamsDep,
    status_filter: Annotated[EventStatus | None, Query(alias="status")] = None,
    event_type: Annotated[str | None, Query(alias="type", max_length=64)] = None,
) -> Page[WebhookEventPublic]:
    query = events_query(provider.id, status=status_filter, event_type=event_type)
    rows, cursor = await paginate(session, query, WebhookEvent.id, page)  # type: ignore[arg-type]
    items = [WebhookEventPublic.model_validate(row) for row in rows]
    return Page[WebhookEventPublic](items=items, next_cursor=cursor)


@router.get(
    "/providers/{provider_id}/deliveries",
    summary="A provider's delivery log, newest first",
    responses=ON_PROVIDER,
)
async def provider_deliveries(
    _principal: DeliveryReader,
    provider: ProviderForAuthority,
    session: SessionDep,
    page: PageParamsDep,
    event_id: Annotated[uuid.UUID | None, Query()] = None,
    event_type: Annotated[str | None, Query(alias="type", max_length=64)] = None,
) -> Page[WebhookAttemptPublic]:
    query = attempts_query(provider.id, event_id=event_id, event_type=event_type)
    rows, cursor = await paginate(session, query, WebhookAttempt.id, page)  # type: ignore[arg-type]
    types = await event_types_of(session, {row.event_id for row in rows})
    items = [WebhookAttemptPublic.of(row, types[row.event_id]) for row in rows]
    return Page[WebhookAttemptPublic](items=items, next_cursor=cursor)


@router.post(
    "/providers/{provider_id}/replay",
    summary="Send a provider's dead-lettered events again: the given ones, or all of them",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def replay(
    principal: DeliveryOperator,
    provider: ProviderForAuthority,
    session: SessionDep,
    body: ReplayBody = None,
) -> WebhookReplayed:
    """All or nothing: 409 if a given event is not one of this provider's dead letters."""
    event_ids = body.event_ids if body else None
    replayed = await service.replay(session, provider.id, event_ids, actor=principal)
    return WebhookReplayed(replayed=replayed)
