"""Provider operators manage their API credentials; an API client can see who it is."""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlmodel import col, select

from providers.clients.models import ApiClient
from voucher_service.auth.dependencies import CurrentProvider, ProviderOperator
from voucher_service.auth.pepper import PepperDep
from voucher_service.clients import service
from voucher_service.clients.dependencies import OwnClient
from voucher_service.clients.schemas import (
    ApiClientCreate,
    ApiClientIssued,
    ApiClientPublic,
    ApiClientRotate,
    ProviderSelf,
)
from voucher_service.dependencies import SessionDep, SettingsDep
from voucher_service.idempotency import IdempotentRoute
from voucher_service.kit.pagination import Page, PageParamsDep, paginate
from voucher_service.kit.problems import problem_responses

router = APIRouter(tags=["provider API clients"], route_class=IdempotentRoute)
# Routes whose answer holds a secret shown once stay out of the idempotency layer: its record
# would keep the secret (docs/CONVENTIONS.md, "Idempotency keys").
secret_routes = APIRouter(tags=["provider API clients"])
ON_CLIENT = problem_responses(401, 403, 404, 409, 422)


@router.get(
    "/v1/provider/api-clients",
    summary="My provider's API credentials",
    responses=problem_responses(401, 403),
)
async def list_clients(
    principal: ProviderOperator, session: SessionDep, page: PageParamsDep
) -> Page[ApiClientPublic]:
    query = select(ApiClient).where(col(ApiClient.organisation_id) == principal.organisation_id)
    rows, cursor = await paginate(session, query, ApiClient.id, page)  # type: ignore[arg-type]
    return Page[ApiClientPublic](items=[ApiClientPublic.of(r) for r in rows], next_cursor=cursor)


@secret_routes.post(
    "/v1/provider/api-clients",
    summary="Create an API credential; a client secret is shown in this response only",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 422),
)
async def create_client(
    body: ApiClientCreate, principal: ProviderOperator, session: SessionDep, pepper: PepperDep
) -> ApiClientIssued:
    issued = await service.create(
        session,
        principal,
        name=body.name,
        auth_method=body.auth_method,
        pepper=pepper,
        scopes=body.scopes,
        public_jwk=body.public_jwk,
    )
    return ApiClientIssued.model_validate(issued.client).model_copy(
        update={"client_secret": issued.client_secret}
    )


@router.get(
    "/v1/provider/api-clients/{client_pk}",
    summary="One API credential",
    responses=problem_responses(401, 403, 404),
)
async def get_client(client: OwnClient) -> ApiClientPublic:
    return ApiClientPublic.of(client)


@secret_routes.post(
    "/v1/provider/api-clients/{client_pk}/rotate",
    summary="Rotate: a new secret (shown once) or key; the old one works for a grace period",
    responses=ON_CLIENT,
)
async def rotate_client(
    body: ApiClientRotate,
    principal: ProviderOperator,
    client: OwnClient,
    session: SessionDep,
    settings: SettingsDep,
    pepper: PepperDep,
) -> ApiClientIssued:
    issued = await service.rotate(
        session, settings, principal, client, pepper=pepper, public_jwk=body.public_jwk
    )
    return ApiClientIssued.model_validate(client).model_copy(
        update={"client_secret": issued.client_secret}
    )


@router.post(
    "/v1/provider/api-clients/{client_pk}/revoke",
    summary="Revoke at once: no new tokens, and issued tokens stop working",
    responses=ON_CLIENT,
)
async def revoke_client(
    principal: ProviderOperator, client: OwnClient, session: SessionDep
) -> ApiClientPublic:
    await service.revoke(session, principal, client)
    return ApiClientPublic.of(client)


@router.get(
    "/v1/provider/me",
    summary="Who this API client is (a cheap way to test credentials)",
    responses=problem_responses(401, 403, 429),
)
async def provider_me(principal: CurrentProvider) -> ProviderSelf:
    return ProviderSelf(
        client_id=principal.label,
        organisation_id=principal.organisation_id,
        scopes=sorted(principal.scopes),
    )


router.include_router(secret_routes)
