"""The application's side of the provider registry: organisation creation, audit, views."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from providers.registry import catalogue
from providers.registry import service as registry
from providers.registry.errors import ProviderNotFound
from providers.registry.models import CatalogueItem, ProviderProfile, ProviderState
from providers.registry.service import Change
from voucher_service.audit import service as audit
from voucher_service.audit.service import Auditable, AuditActor
from voucher_service.organisations import service as organisations
from voucher_service.organisations.models import Organisation, OrganisationKind
from voucher_service.provider_registry.schemas import (
    CatalogueItemCreate,
    CatalogueItemOut,
    ProviderAdmin,
    ProviderPublic,
    ProviderRegistration,
)

Actor = AuditActor | Auditable | None


async def record(session: AsyncSession, change: Change, *, actor: Actor) -> ProviderProfile:
    """Audit a registry state change; returns the changed profile."""
    await audit.record(
        session,
        action=change.action,
        actor=actor,
        target=("provider", change.profile.organisation_id),
        before=change.before,
        after=change.after,
        reason=change.reason,
    )
    return change.profile


async def register(
    session: AsyncSession, body: ProviderRegistration, *, actor: Actor
) -> ProviderProfile:
    """A provider organisation (new, or an existing one) with a ``proposed`` profile."""
    if body.organisation_id is not None:
        organisation = await session.get(Organisation, body.organisation_id)
        if organisation is None or organisation.kind != OrganisationKind.provider:
            raise ProviderNotFound("No provider organisation has this id.")
    else:
        organisation = await organisations.create_organisation(
            session,
            kind=OrganisationKind.provider,
            name=body.name or "",
            actor=actor,
            credit_code=body.credit_code,
            allow_legacy_code=body.allow_legacy_credit_code,
            contact_email=body.contact_email,
        )
    change = await registry.propose(
        session, organisation.id, services=body.services, filing_number=body.filing_number
    )
    return await record(session, change, actor=actor)


async def organisations_of(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Organisation]:
    if not ids:
        return {}
    rows = await session.scalars(select(Organisation).where(col(Organisation.id).in_(list(ids))))
    return {row.id: row for row in rows}


async def present_admin(
    session: AsyncSession, profiles: Sequence[ProviderProfile]
) -> list[ProviderAdmin]:
    """The authority's view of these profiles, with their catalogues."""
    ids = [profile.organisation_id for profile in profiles]
    orgs = await organisations_of(session, ids)
    items = _by_provider(await catalogue.items_of(session, ids))
    return [
        ProviderAdmin(
            provider_id=profile.organisation_id,
            name=orgs[profile.organisation_id].name,
            credit_code=orgs[profile.organisation_id].credit_code,
            organisation_status=orgs[profile.organisation_id].status,
            services=list(profile.services),
            filing_number=profile.filing_number,
            catalogue=items.get(profile.organisation_id, []),
            state=ProviderState(profile.state),
            publicity_until=profile.publicity_until,
            approved_at=profile.approved_at,
            suspended_at=profile.suspended_at,
            suspended_reason=profile.suspended_reason,
            created_at=profile.created_at,
            updated_at=profile.updated_at,
        )
        for profile in profiles
    ]


async def present_public(
    session: AsyncSession, profiles: Sequence[ProviderProfile]
) -> list[ProviderPublic]:
    """Anyone's view of these (approved) profiles, with their active catalogue items."""
    ids = [profile.organisation_id for profile in profiles]
    orgs = await organisations_of(session, ids)
    items = _by_provider(await catalogue.items_of(session, ids, active_only=True))
    return [
        ProviderPublic(
            provider_id=profile.organisation_id,
            name=orgs[profile.organisation_id].name,
            credit_code=orgs[profile.organisation_id].credit_code,
            services=list(profile.services),
            filing_number=profile.filing_number,
            catalogue=items.get(profile.organisation_id, []),
        )
        for profile in profiles
    ]


def _by_provider(items: Sequence[CatalogueItem]) -> dict[uuid.UUID, list[CatalogueItemOut]]:
    grouped: dict[uuid.UUID, list[CatalogueItemOut]] = {}
    for item in items:
        grouped.setdefault(item.provider_id, []).append(CatalogueItemOut.model_validate(item))
    return grouped


async def add_catalogue_item(
    session: AsyncSession, provider_id: uuid.UUID, body: CatalogueItemCreate, *, actor: Actor
) -> CatalogueItem:
    """Add an item to the provider's catalogue, audited."""
    await registry.require_profile(session, provider_id, for_update=True)
    item = await catalogue.add_item(session, provider_id, **body.model_dump())
    await audit.record(
        session,
        action="provider.catalogue_item_added",
        actor=actor,
        target=("provider", provider_id),
        after=catalogue.summary(item) | {"item_id": str(item.id)},
    )
    return item


async def catalogue_item(
    session: AsyncSession, provider_id: uuid.UUID, item_id: uuid.UUID
) -> CatalogueItem:
    """The provider's item (ProviderNotFound if missing or another provider's)."""
    item = await catalogue.get_item(session, provider_id, item_id)
    if item is None:
        raise ProviderNotFound("No such catalogue item.")
    return item


async def change_catalogue_item(
    session: AsyncSession,
    item: CatalogueItem,
    changes: dict[str, Any],
    *,
    actor: Actor,
    action: str = "provider.catalogue_item_updated",
) -> CatalogueItem:
    """Change an item (description, list price, active), audited as ``action``."""
    before = await catalogue.update_item(session, item, changes)
    await audit.record(
        session,
        action=action,
        actor=actor,
        target=("provider", item.provider_id),
        before=before | {"item_id": str(item.id)},
        after=changes,
    )
    return item


async def withdraw_catalogue_item(
    session: AsyncSession, item: CatalogueItem, *, actor: Actor
) -> CatalogueItem:
    """Withdraw an item: kept, inactive, for the record."""
    return await change_catalogue_item(
        session, item, {"active": False}, actor=actor, action="provider.catalogue_item_withdrawn"
    )
