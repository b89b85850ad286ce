"""HTTP routes of the provider registry.

Who may call them: programme administrators register providers, move them through
``proposed → publicity → approved ⇄ suspended`` and keep their catalogues; every authority user
(reviewers, finance, auditors, sysadmins too) reads the registry; anyone reads the public list
of approved providers (``GET /v1/providers``).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from sqlmodel import col, select

from providers.registry import catalogue
from providers.registry import service as registry
from providers.registry.models import ProviderProfile, ProviderState
from providers.registry.service import Change
from voucher_service.auth.dependencies import AuthorityUser, ProgramAdmin
from voucher_service.auth.principal import Principal
from voucher_service.dependencies import SessionDep
from voucher_service.idempotency import IdempotentRoute
from voucher_service.kit.pagination import Page, PageParamsDep, paginate
from voucher_service.kit.problems import problem_responses
from voucher_service.provider_registry import service
from voucher_service.provider_registry.schemas import (
    CatalogueItemCreate,
    CatalogueItemOut,
    CatalogueItemUpdate,
    ProviderAdmin,
    ProviderPublic,
    ProviderRegistration,
    ProviderUpdate,
    PublicityStart,
    Reason,
)

router = APIRouter(tags=["providers"], route_class=IdempotentRoute)
ProviderId = Annotated[uuid.UUID, Path(description="the provider organisation's id")]
CHANGE = problem_responses(401, 403, 404, 409, 422)


async def _one(session: SessionDep, provider_id: uuid.UUID) -> ProviderAdmin:
    profile = await registry.require_profile(session, provider_id)
    return (await service.present_admin(session, [profile]))[0]


async def _recorded(session: SessionDep, change: Change, principal: Principal) -> ProviderAdmin:
    """Audit ``change`` and answer with the provider's entry as it is now."""
    profile = await service.record(session, change, actor=principal)
    return await _one(session, profile.organisation_id)


@router.get("/v1/providers", summary="Approved providers and what they sell (public)")
async def list_public(session: SessionDep, page: PageParamsDep) -> Page[ProviderPublic]:
    query = select(ProviderProfile).where(col(ProviderProfile.state) == ProviderState.approved)
    rows, cursor = await paginate(session, query, ProviderProfile.organisation_id, page)  # type: ignore[arg-type]
    items = await service.present_public(session, rows)
    return Page[ProviderPublic](items=items, next_cursor=cursor)


@router.get(
    "/v1/admin/providers", summary="The provider registry", responses=problem_responses(401, 403)
)
async def list_providers(
    _principal: AuthorityUser,
    session: SessionDep,
    page: PageParamsDep,
    state: Annotated[ProviderState | None, Query()] = None,
) -> Page[ProviderAdmin]:
    query = select(ProviderProfile)
    if state is not None:
        query = query.where(col(ProviderProfile.state) == state)
    rows, cursor = await paginate(session, query, ProviderProfile.organisation_id, page)  # type: ignore[arg-type]
    return Page[ProviderAdmin](items=await service.present_admin(session, rows), next_cursor=cursor)


@router.post(
    "/v1/admin/providers",
    summary="Register a provider (proposed)",
    status_code=status.HTTP_201_CREATED,
    responses=CHANGE,
)
async def register(
    body: ProviderRegistration, principal: ProgramAdmin, session: SessionDep
) -> ProviderAdmin:
    profile = await service.register(session, body, actor=principal)
    return await _one(session, profile.organisation_id)


@router.get(
    "/v1/admin/providers/{provider_id}",
    summary="One provider's registry entry",
    responses=problem_responses(401, 403, 404),
)
async def get_provider(
    _principal: AuthorityUser, session: SessionDep, provider_id: ProviderId
) -> ProviderAdmin:
    return await _one(session, provider_id)


@router.patch(
    "/v1/admin/providers/{provider_id}",
    summary="Change what a provider sells or its filing number (备案号)",
    responses=CHANGE,
)
async def update_provider(
    body: ProviderUpdate, principal: ProgramAdmin, session: SessionDep, provider_id: ProviderId
) -> ProviderAdmin:
    change = await registry.update_details(
        session, provider_id, services=body.services, filing_number=body.filing_number
    )
    return await _recorded(session, change, principal)


@router.post(
    "/v1/admin/providers/{provider_id}/publicity",
    summary="List a proposed provider publicly for objections (公示) for some days",
    responses=CHANGE,
)
async def start_publicity(
    body: PublicityStart, principal: ProgramAdmin, session: SessionDep, provider_id: ProviderId
) -> ProviderAdmin:
    change = await registry.start_publicity(session, provider_id, days=body.days)
    return await _recorded(session, change, principal)


@router.post(
    "/v1/admin/providers/{provider_id}/approve",
    summary="Approve a provider after its publicity period",
    responses=CHANGE,
)
async def approve(
    principal: ProgramAdmin, session: SessionDep, provider_id: ProviderId
) -> ProviderAdmin:
    change = await registry.approve(session, provider_id)
    return await _recorded(session, change, principal)


@router.post(
    "/v1/admin/providers/{provider_id}/suspend",
    summary="Suspend a provider: no voucher can be redeemed with it from now on",
    responses=CHANGE,
)
async def suspend(
    body: Reason, principal: ProgramAdmin, session: SessionDep, provider_id: ProviderId
) -> ProviderAdmin:
    change = await registry.suspend(session, provider_id, reason=body.reason)
    return await _recorded(session, change, principal)


@router.post(
    "/v1/admin/providers/{provider_id}/reinstate",
    summary="Lift a provider's suspension",
    responses=CHANGE,
)
async def reinstate(
    body: Reason, principal: ProgramAdmin, session: SessionDep, provider_id: ProviderId
) -> ProviderAdmin:
    change = await registry.reinstate(session, provider_id, reason=body.reason)
    return await _recorded(session, change, principal)


@router.get(
    "/v1/admin/providers/{provider_id}/catalogue",
    summary="A provider's catalogue (inactive items too)",
    responses=problem_responses(401, 403, 404),
)
async def list_catalogue(
    _principal: AuthorityUser, session: SessionDep, provider_id: ProviderId
) -> list[CatalogueItemOut]:
    await registry.require_profile(session, provider_id)
    items = await catalogue.items_of(session, [provider_id])
    return [CatalogueItemOut.model_validate(item) for item in items]


@router.post(
    "/v1/admin/providers/{provider_id}/catalogue",
    summary="Add an item to a provider's catalogue",
    status_code=status.HTTP_201_CREATED,
    responses=CHANGE,
)
async def add_catalogue_item(
    body: CatalogueItemCreate, principal: ProgramAdmin, session: SessionDep, provider_id: ProviderId
) -> CatalogueItemOut:
    item = await service.add_catalogue_item(session, provider_id, body, actor=principal)
    return CatalogueItemOut.model_validate(item)


@router.patch(
    "/v1/admin/providers/{provider_id}/catalogue/{item_id}",
    summary="Change a catalogue item (description, list price, active)",
    responses=CHANGE,
)
async def update_catalogue_item(
    body: CatalogueItemUpdate,
    principal: ProgramAdmin,
    session: SessionDep,
    provider_id: ProviderId,
    item_id: uuid.UUID,
) -> CatalogueItemOut:
    item = await service.catalogue_item(session, provider_id, item_id)
    changes = body.model_dump(exclude_unset=True)
    await service.change_catalogue_item(session, item, changes, actor=principal)
    return CatalogueItemOut.model_validate(item)


@router.delete(
    "/v1/admin/providers/{provider_id}/catalogue/{item_id}",
    summary="Withdraw a catalogue item (kept, inactive, for the record)",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=CHANGE,
)
async def withdraw_catalogue_item(
    principal: ProgramAdmin, session: SessionDep, provider_id: ProviderId, item_id: uuid.UUID
) -> Response:
    item = await service.catalogue_item(session, provider_id, item_id)
    await service.withdraw_catalogue_item(session, item, actor=principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
