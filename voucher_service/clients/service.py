"""Provider API credentials with their audit events: what the API routes and the portal call."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from providers.clients import service as clients
from providers.clients.models import ApiClient, AuthMethod
from voucher_service.audit import service as audit
from voucher_service.auth.principal import Principal
from voucher_service.settings import Settings


def summary(client: ApiClient) -> dict[str, object]:
    """What the audit trail keeps about a credential (never its secret or key)."""
    return {"client_id": client.client_id, "status": client.status, "scopes": client.scopes}


async def list_for_provider(session: AsyncSession, provider_id: uuid.UUID) -> Sequence[ApiClient]:
    """Every credential of a provider, newest first (a provider has a handful)."""
    query = (
        select(ApiClient)
        .where(col(ApiClient.organisation_id) == provider_id)
        .order_by(col(ApiClient.id).desc())
    )
    return (await session.scalars(query)).all()


async def create(
    session: AsyncSession,
    principal: Principal,
    *,
    name: str,
    auth_method: AuthMethod,
    pepper: bytes,
    scopes: list[str] | None = None,
    public_jwk: dict[str, Any] | None = None,
) -> clients.IssuedCredential:
    """A new credential of the operator's provider; a client secret comes back once."""
    issued = await clients.create_client(
        session,
        organisation_id=principal.organisation_id,
        name=name,
        auth_method=auth_method,
        pepper=pepper,
        scopes=scopes,
        public_jwk=public_jwk,
        created_by_id=principal.id,
    )
    await audit.record(
        session,
        action="api_client.created",
        actor=principal,
        target=("api_client", issued.client.id),
        after=summary(issued.client),
    )
    return issued


async def rotate(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    client: ApiClient,
    *,
    pepper: bytes,
    public_jwk: dict[str, Any] | None = None,
) -> clients.IssuedCredential:
    """A new secret (shown once) or key; the old one works for the configured grace period."""
    issued = await clients.rotate_client(
        session,
        client,
        pepper=pepper,
        grace=timedelta(seconds=settings.client_secret_rotation_grace_seconds),
        public_jwk=public_jwk,
    )
    await audit.record(
        session,
        action="api_client.rotated",
        actor=principal,
        target=("api_client", client.id),
        after={**summary(client), "previous_valid_until": client.previous_valid_until},
    )
    return issued


async def revoke(session: AsyncSession, principal: Principal, client: ApiClient) -> ApiClient:
    """Revoke at once: no new tokens, and tokens already issued stop working."""
    before = summary(client)
    await clients.revoke_client(session, client)
    await audit.record(
        session,
        action="api_client.revoked",
        actor=principal,
        target=("api_client", client.id),
        before=before,
        after=summary(client),
    )
    return client
