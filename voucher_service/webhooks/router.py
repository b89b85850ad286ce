"""``/v1/provider/webhook-*``: a provider manages its endpoint and sees what was sent to it.

Callers: the provider's operators, or its API clients holding ``webhooks:manage``. Everything is
scoped to the caller's own provider; another provider's event is "not found".
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from providers.webhooks import endpoints
from providers.webhooks.history import attempts_query, event_types_of, events_query, notices_query
from providers.webhooks.models import WebhookAttempt, WebhookEvent, WebhookNotice
from voucher_service.dependencies import SessionDep, SettingsDep
from voucher_service.idempotency import IdempotentRoute
from voucher_service.kit.pagination import Page, PageParamsDep, paginate
from voucher_service.kit.problems import problem_responses
from voucher_service.webhooks import service
from voucher_service.webhooks.dependencies import EventFilter, OwnEvent, OwnReplay, WebhookManager
from voucher_service.webhooks.schemas import (
    EventStatus,
    WebhookAttemptPublic,
    WebhookEndpointPublic,
    WebhookEndpointSaved,
    WebhookEndpointSet,
    WebhookEventDetail,
    WebhookEventPublic,
    WebhookNoticePublic,
    WebhookReplayed,
    WebhookSecretRotated,
    WebhookTestQueued,
)

router = APIRouter(prefix="/v1/provider", tags=["provider webhooks"], route_class=IdempotentRoute)
# Routes whose answer holds a secret shown once stay out of the idempotency layer: its record
# would keep the secret (docs/CONVENTIONS.md, "Idempotency keys").
secret_routes = APIRouter(tags=["provider webhooks"])
AUTH = problem_responses(401, 403, 429)
LIST = problem_responses(400, 401, 403, 422, 429)
EventType = Annotated[str | None, Query(alias="type", max_length=64, description="event type")]


@secret_routes.put(
    "/webhook-endpoint",
    summary="Set the webhook endpoint and its event types (201 with the secret the first time)",
    responses={
        201: {"model": WebhookEndpointSaved, "description": "Created: `secret` is shown once"},
        **problem_responses(401, 403, 422, 429),
    },
)
async def put_endpoint(
    body: WebhookEndpointSet,
    principal: WebhookManager,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
) -> WebhookEndpointSaved:
    """Create or replace the endpoint; saving a disabled endpoint enables it again."""
    saved = await service.set_endpoint(
        session, settings, principal.organisation_id, body.url, body.events, actor=principal
    )
    if saved.secret is not None:
        response.status_code = status.HTTP_201_CREATED
    return WebhookEndpointSaved.of_saved(saved)


@router.get(
    "/webhook-endpoint",
    summary="The webhook endpoint (never its secret)",
    responses=problem_responses(401, 403, 404, 429),
)
async def get_endpoint(principal: WebhookManager, session: SessionDep) -> WebhookEndpointPublic:
    return WebhookEndpointPublic.of(
        await endpoints.get_endpoint(session, principal.organisation_id)
    )


@secret_routes.post(
    "/webhook-endpoint/rotate-secret",
    summary="A new signing secret (shown once); the old one keeps signing during the overlap",
    responses=problem_responses(401, 403, 404, 429),
)
async def rotate_secret(
    principal: WebhookManager, session: SessionDep, settings: SettingsDep
) -> WebhookSecretRotated:
    secret, endpoint = await service.rotate_secret(
        session, settings, principal.organisation_id, actor=principal
    )
    return WebhookSecretRotated(
        secret=secret, previous_secret_expires_at=endpoint.previous_secret_expires_at
    )


@router.post(
    "/webhook-endpoint/test",
    summary="Queue a `webhook.test` event to the endpoint (see the delivery log)",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(401, 403, 404, 409, 429),
)
async def send_test_event(principal: WebhookManager, session: SessionDep) -> WebhookTestQueued:
    event_id = await service.send_test_event(session, principal.organisation_id, actor=principal)
    return WebhookTestQueued(event_id=event_id)


@router.get(
    "/webhook-deliveries",
    summary="The delivery log: every attempt, newest first",
    responses=problem_responses(400, 401, 403, 404, 422, 429),
)
async def list_deliveries(
    principal: WebhookManager,
    session: SessionDep,
    page: PageParamsDep,
    event_id: EventFilter,
    event_type: EventType = None,
) -> Page[WebhookAttemptPublic]:
    query = attempts_query(principal.organisation_id, event_id=event_id, event_type=event_type)
    rows, cursor = await paginate(session, query, WebhookAttempt.id, page)  # type: ignore[arg-type]
    types = await event_types_of(session, {row.event_id for row in rows})
    items = [WebhookAttemptPublic.of(row, types[row.event_id]) for row in rows]
    return Page[WebhookAttemptPublic](items=items, next_cursor=cursor)


@router.get(
    "/webhook-events",
    summary="Events sent (or to be sent) to this provider; `?status=dead` lists dead letters",
    responses=LIST,
)
async def list_events(
    principal: WebhookManager,
    session: SessionDep,
    page: PageParamsDep,
    status_filter: Annotated[EventStatus | None, Query(alias="status")] = None,
    event_type: EventType = None,
) -> Page[WebhookEventPublic]:
    query = events_query(principal.organisation_id, status=status_filter, event_type=event_type)
    rows, cursor = await paginate(session, query, WebhookEvent.id, page)  # type: ignore[arg-type]
    items = [WebhookEventPublic.model_validate(row) for row in rows]
    return Page[WebhookEventPublic](items=items, next_cursor=cursor)


@router.get(
    "/webhook-events/{event_id}",
    summary="One event, with the exact payload that is signed and sent",
    responses=problem_responses(401, 403, 404, 422, 429),
)
async def get_event(event: OwnEvent) -> WebhookEventDetail:
    return WebhookEventDetail.of(event)


@router.post(
    "/webhook-events/replay",
    summary="Send dead-lettered events again: the given ones, or all of them",
    responses=problem_responses(401, 403, 404, 409, 422, 429),
)
async def replay(
    principal: WebhookManager, session: SessionDep, body: OwnReplay
) -> WebhookReplayed:
    """All or nothing: 409 if a given event is not dead-lettered (or the endpoint disabled)."""
    replayed = await service.replay(
        session, principal.organisation_id, body.event_ids, actor=principal
    )
    return WebhookReplayed(replayed=replayed)


@router.get(
    "/webhook-notices",
    summary="Notices for the provider's operators (an endpoint disabled after 410 Gone)",
    responses=LIST,
)
async def list_notices(
    principal: WebhookManager,
    session: SessionDep,
    page: PageParamsDep,
    include_resolved: Annotated[bool, Query(description="also those already dealt with")] = False,
) -> Page[WebhookNoticePublic]:
    query = notices_query(principal.organisation_id, include_resolved=include_resolved)
    rows, cursor = await paginate(session, query, WebhookNotice.id, page)  # type: ignore[arg-type]
    return Page[WebhookNoticePublic](
        items=[WebhookNoticePublic.of(r) for r in rows], next_cursor=cursor
    )


router.include_router(secret_routes)
