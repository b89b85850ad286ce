"""A provider's catalogue: what it sells, as a resource (``gpu_hour``) in a unit (``hour``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ledger.sqltypes import utcnow
from providers.registry.errors import CatalogueItemConflict
from providers.registry.models import CatalogueItem


def summary(item: CatalogueItem) -> dict[str, Any]:
    """What the audit trail keeps about a catalogue item."""
    return {
        "resource": item.resource,
        "unit": item.unit,
        "description": item.description,
        "list_price_amount": item.list_price_amount,
        "active": item.active,
    }


async def add_item(
    session: AsyncSession,
    provider_id: uuid.UUID,
    *,
    resource: str,
    unit: str,
    description: str = "",
    list_price_amount: int | None = None,
) -> CatalogueItem:
    """A new active item; the same resource and unit twice is CatalogueItemConflict."""
    item = CatalogueItem(
        provider_id=provider_id,
        resource=resource,
        unit=unit,
        description=description,
        list_price_amount=list_price_amount,
    )
    try:
        async with session.begin_nested():
            session.add(item)
    except sa.exc.IntegrityError as exc:
        raise CatalogueItemConflict(f"The provider already lists {resource} per {unit}.") from exc
    return item


async def get_item(
    session: AsyncSession, provider_id: uuid.UUID, item_id: uuid.UUID
) -> CatalogueItem | None:
    """The provider's item ``item_id`` (None if missing or another provider's)."""
    item = await session.get(CatalogueItem, item_id)
    return item if item is not None and item.provider_id == provider_id else None


async def update_item(
    session: AsyncSession, item: CatalogueItem, changes: dict[str, Any]
) -> dict[str, Any]:
    """Apply ``changes`` (description, list price, active); returns the summary before."""
    before = summary(item)
    for name, value in changes.items():
        setattr(item, name, value)
    item.updated_at = utcnow()
    session.add(item)
    await session.flush()
    return before


async def items_of(
    session: AsyncSession, provider_ids: Sequence[uuid.UUID], *, active_only: bool = False
) -> list[CatalogueItem]:
    """The items of these providers, in the order they were added."""
    if not provider_ids:
        return []
    query = select(CatalogueItem).where(col(CatalogueItem.provider_id).in_(list(provider_ids)))
    if active_only:
        query = query.where(col(CatalogueItem.active).is_(True))
    return list(await session.scalars(query.order_by(col(CatalogueItem.id))))


async def sells_resource(
    session: AsyncSession, provider_id: uuid.UUID, resource: str, unit: str
) -> bool:
    """Whether the provider has an active item for ``resource`` in ``unit``."""
    found = await session.scalar(
        select(CatalogueItem.id).where(
            col(CatalogueItem.provider_id) == provider_id,
            col(CatalogueItem.resource) == resource,
            col(CatalogueItem.unit) == unit,
            col(CatalogueItem.active).is_(True),
        )
    )
    return found is not None
