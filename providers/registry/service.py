"""Provider onboarding and the checks made before money moves with a provider.

State changes: ``propose`` (a profile in ``proposed``), ``start_publicity`` (listed for
objections for N days), ``approve`` (after publicity; a model provider needs its filing number),
``suspend`` (stops redemption at once: every redemption calls ``require_redeemable`` in its own
unit of work) and ``reinstate``. Each locks the profile row, checks, changes it, and returns a
:class:`Change` for the caller to audit (this package does not import the application's audit).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ledger.sqltypes import db_now, utcnow
from providers.registry.errors import (
    FilingNumberRequired,
    ProviderAlreadyRegistered,
    ProviderNotApproved,
    ProviderNotFound,
    ProviderStateConflict,
    ProviderSuspended,
    PublicityNotOver,
)
from providers.registry.models import ProviderProfile, ProviderState, ServiceKind

MAX_PUBLICITY_DAYS = 90


@dataclass(frozen=True)
class Change:
    """What a state change did, for the caller's audit event."""

    profile: ProviderProfile
    action: str
    before: dict[str, Any]
    after: dict[str, Any]
    reason: str | None = None


def summary(profile: ProviderProfile) -> dict[str, Any]:
    """What the audit trail keeps about a profile."""
    return {
        "state": profile.state,
        "services": list(profile.services),
        "filing_number": profile.filing_number,
        "publicity_until": profile.publicity_until,
        "suspended_reason": profile.suspended_reason,
    }


async def get_profile(
    session: AsyncSession, provider_id: uuid.UUID, *, for_update: bool = False
) -> ProviderProfile | None:
    """The provider's profile, if it has one (locked for update when asked)."""
    query = select(ProviderProfile).where(col(ProviderProfile.organisation_id) == provider_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def require_profile(
    session: AsyncSession, provider_id: uuid.UUID, *, for_update: bool = False
) -> ProviderProfile:
    """The provider's profile, or ProviderNotFound."""
    profile = await get_profile(session, provider_id, for_update=for_update)
    if profile is None:
        raise ProviderNotFound(f"No provider {provider_id} is registered.")
    return profile


async def require_redeemable(session: AsyncSession, provider_id: uuid.UUID) -> ProviderProfile:
    """The approved provider's profile; ProviderSuspended or ProviderNotApproved otherwise."""
    profile = await get_profile(session, provider_id)
    if profile is not None and profile.state == ProviderState.approved:
        return profile
    if profile is not None and profile.state == ProviderState.suspended:
        raise ProviderSuspended(
            f"The provider is suspended: {profile.suspended_reason or 'no reason given'}."
        )
    raise ProviderNotApproved("The provider is not on the approved list.")


async def is_approved(session: AsyncSession, provider_id: uuid.UUID) -> bool:
    """Whether the provider is approved (and so not suspended)."""
    state = await session.scalar(
        select(ProviderProfile.state).where(col(ProviderProfile.organisation_id) == provider_id)
    )
    return state == ProviderState.approved


async def approved_ids(session: AsyncSession, provider_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Those of ``provider_ids`` that are approved."""
    wanted = list(provider_ids)
    if not wanted:
        return set()
    rows = await session.scalars(
        select(ProviderProfile.organisation_id).where(
            col(ProviderProfile.organisation_id).in_(wanted),
            col(ProviderProfile.state) == ProviderState.approved,
        )
    )
    return set(rows)


async def propose(
    session: AsyncSession,
    provider_id: uuid.UUID,
    *,
    services: Iterable[ServiceKind],
    filing_number: str | None = None,
) -> Change:
    """A new profile in ``proposed`` for the provider organisation ``provider_id``."""
    if await get_profile(session, provider_id) is not None:
        raise ProviderAlreadyRegistered("This provider already has a registry profile.")
    profile = ProviderProfile(
        organisation_id=provider_id,
        services=sorted({ServiceKind(kind).value for kind in services}),
        filing_number=_clean(filing_number),
    )
    try:
        async with session.begin_nested():
            session.add(profile)
    except sa.exc.IntegrityError as exc:  # a concurrent registration of the same provider
        raise ProviderAlreadyRegistered("This provider already has a registry profile.") from exc
    return Change(profile, "provider.proposed", {}, summary(profile))


def _clean(text: str | None) -> str | None:
    stripped = (text or "").strip()
    return stripped or None


def _expect(profile: ProviderProfile, *states: ProviderState) -> None:
    if profile.state not in states:
        wanted = " or ".join(states)
        raise ProviderStateConflict(f"The provider is {profile.state}; this needs {wanted}.")


async def _database_time(session: AsyncSession) -> datetime:
    return (await session.execute(sa.select(db_now()))).scalar_one()


async def _change(
    session: AsyncSession,
    profile: ProviderProfile,
    action: str,
    reason: str | None = None,
    **values: Any,
) -> Change:
    before = summary(profile)
    for name, value in values.items():
        setattr(profile, name, value)
    profile.updated_at = utcnow()
    session.add(profile)
    await session.flush()
    return Change(profile, action, before, summary(profile), reason)


async def start_publicity(session: AsyncSession, provider_id: uuid.UUID, *, days: int) -> Change:
    """List the proposed provider publicly for objections until ``days`` from now."""
    if not 0 <= days <= MAX_PUBLICITY_DAYS:
        raise ProviderStateConflict(f"Publicity lasts 0 to {MAX_PUBLICITY_DAYS} days.")
    profile = await require_profile(session, provider_id, for_update=True)
    _expect(profile, ProviderState.proposed)
    until = await _database_time(session) + timedelta(days=days)
    return await _change(
        session,
        profile,
        "provider.publicity_started",
        state=ProviderState.publicity,
        publicity_until=until,
    )


async def approve(session: AsyncSession, provider_id: uuid.UUID) -> Change:
    """Approve after the publicity period; a model provider must have its filing number."""
    profile = await require_profile(session, provider_id, for_update=True)
    _expect(profile, ProviderState.publicity)
    until = profile.publicity_until
    if until is not None and until > await _database_time(session):
        raise PublicityNotOver(f"The publicity period ends at {until.isoformat()}.")
    if profile.sells(ServiceKind.model) and not profile.filing_number:
        raise FilingNumberRequired("Record the provider's filing number (备案号) first.")
    return await _change(
        session, profile, "provider.approved", state=ProviderState.approved, approved_at=utcnow()
    )


async def suspend(session: AsyncSession, provider_id: uuid.UUID, *, reason: str) -> Change:
    """Suspend an approved provider: redemption with it stops at once."""
    profile = await require_profile(session, provider_id, for_update=True)
    _expect(profile, ProviderState.approved)
    return await _change(
        session,
        profile,
        "provider.suspended",
        reason,
        state=ProviderState.suspended,
        suspended_at=utcnow(),
        suspended_reason=reason.strip(),
    )


async def reinstate(session: AsyncSession, provider_id: uuid.UUID, *, reason: str) -> Change:
    """Lift a suspension."""
    profile = await require_profile(session, provider_id, for_update=True)
    _expect(profile, ProviderState.suspended)
    return await _change(
        session,
        profile,
        "provider.reinstated",
        reason,
        state=ProviderState.approved,
        suspended_at=None,
        suspended_reason=None,
    )


async def update_details(
    session: AsyncSession,
    provider_id: uuid.UUID,
    *,
    services: Iterable[ServiceKind] | None = None,
    filing_number: str | None = None,
) -> Change:
    """Change what the provider sells or its filing number.

    An approved model provider keeps a filing number: it cannot be removed, nor can ``model``
    be added to an approved provider without one.
    """
    profile = await require_profile(session, provider_id, for_update=True)
    values: dict[str, Any] = {}
    if services is not None:
        values["services"] = sorted({ServiceKind(kind).value for kind in services})
    if filing_number is not None:
        values["filing_number"] = _clean(filing_number)
    new_services = values.get("services", profile.services)
    new_filing = values.get("filing_number", profile.filing_number)
    active = profile.state in (ProviderState.approved, ProviderState.suspended)
    if active and ServiceKind.model in new_services and not new_filing:
        raise FilingNumberRequired("An approved model provider must keep its filing number.")
    return await _change(session, profile, "provider.updated", **values)
