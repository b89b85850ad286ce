"""API client credentials: create, rotate, revoke, authenticate (never commits)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ledger.sqltypes import utcnow
from providers.clients.errors import ClientRevoked, WrongAuthMethod
from providers.clients.jwk import PublicJwk, load_stored_jwk, parse_public_jwk
from providers.clients.models import ApiClient, AuthMethod, ClientAssertionJti, ClientStatus
from providers.clients.scopes import PROVIDER_SCOPES, format_scopes, parse_scopes
from providers.clients.secrets import hash_secret, new_client_id, new_client_secret, secret_matches


@dataclass(frozen=True)
class IssuedCredential:
    """A client and, for ``client_secret`` clients, the secret to show once."""

    client: ApiClient
    client_secret: str | None


async def create_client(
    session: AsyncSession,
    *,
    organisation_id: uuid.UUID,
    name: str,
    auth_method: AuthMethod,
    pepper: bytes,
    scopes: Iterable[str] | None = None,
    public_jwk: Mapping[str, Any] | None = None,
    created_by_id: uuid.UUID | None = None,
) -> IssuedCredential:
    """A new credential for a provider; a secret is generated, or the public JWK registered."""
    granted = parse_scopes(scopes and list(scopes), default=PROVIDER_SCOPES)
    client = ApiClient(
        organisation_id=organisation_id,
        client_id=new_client_id(),
        name=name,
        auth_method=auth_method,
        scopes=format_scopes(granted),
        created_by_id=created_by_id,
    )
    secret = _set_credential(client, pepper, public_jwk)
    session.add(client)
    await session.flush()
    return IssuedCredential(client, secret)


def _set_credential(
    client: ApiClient, pepper: bytes, public_jwk: Mapping[str, Any] | None
) -> str | None:
    if client.auth_method == AuthMethod.client_secret:
        if public_jwk is not None:
            raise WrongAuthMethod("A client_secret client does not take a public key.")
        secret = new_client_secret()
        client.secret_hash = hash_secret(secret, pepper)
        return secret
    if public_jwk is None:
        raise WrongAuthMethod("A private_key_jwt client needs its public key (public_jwk).")
    client.public_jwk = parse_public_jwk(public_jwk).to_json()
    return None


async def rotate_client(
    session: AsyncSession,
    client: ApiClient,
    *,
    pepper: bytes,
    grace: timedelta,
    public_jwk: Mapping[str, Any] | None = None,
) -> IssuedCredential:
    """Replace the credential; the previous one keeps working for ``grace``."""
    if client.status != ClientStatus.active:
        raise ClientRevoked("A revoked client cannot be rotated; create a new one.")
    now = utcnow()
    previous_secret, previous_jwk = client.secret_hash, client.public_jwk
    secret = _set_credential(client, pepper, public_jwk)
    client.previous_secret_hash = previous_secret if grace else None
    client.previous_public_jwk = previous_jwk if grace else None
    client.previous_valid_until = now + grace if grace else None
    client.rotated_at = now
    await session.flush()
    return IssuedCredential(client, secret)


async def revoke_client(session: AsyncSession, client: ApiClient) -> ApiClient:
    """Revoke at once: no new tokens, and tokens already issued stop working."""
    if client.status == ClientStatus.revoked:
        raise ClientRevoked("This client is already revoked.")
    client.status = ClientStatus.revoked
    client.revoked_at = utcnow()
    client.previous_secret_hash = client.previous_public_jwk = None
    client.previous_valid_until = None
    await session.flush()
    return client


async def get_by_client_id(session: AsyncSession, client_id: str) -> ApiClient | None:
    """The client with the public identifier ``client_id``."""
    return await session.scalar(select(ApiClient).where(col(ApiClient.client_id) == client_id))


def _previous_valid(client: ApiClient, now: datetime) -> bool:
    return client.previous_valid_until is not None and client.previous_valid_until > now


def secret_is_valid(client: ApiClient, secret: str, pepper: bytes, now: datetime) -> bool:
    """Whether ``secret`` is the client's secret (or its previous one, within the grace)."""
    if secret_matches(secret, client.secret_hash, pepper):
        return True
    return _previous_valid(client, now) and secret_matches(
        secret, client.previous_secret_hash, pepper
    )


def verification_keys(client: ApiClient, now: datetime) -> list[PublicJwk]:
    """The public keys an assertion from ``client`` may be signed with right now."""
    stored = [client.public_jwk]
    if _previous_valid(client, now):
        stored.append(client.previous_public_jwk)
    return [load_stored_jwk(item) for item in stored if item]


async def remember_jti(
    session: AsyncSession, client: ApiClient, jti: str, expires_at: datetime
) -> bool:
    """Record a used ``jti``; False if the client used it before (a replay)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(ClientAssertionJti)
        .values(api_client_id=client.id, jti=jti, expires_at=expires_at)
        .on_conflict_do_nothing()
    )
    result = await session.execute(statement)
    return bool(getattr(result, "rowcount", 0) == 1)


async def purge_expired_jtis(session: AsyncSession, now: datetime) -> int:
    """Forget ``jti`` values whose assertions have expired (they can no longer be replayed)."""
    result = await session.execute(
        delete(ClientAssertionJti).where(col(ClientAssertionJti.expires_at) < now)
    )
    return int(getattr(result, "rowcount", 0) or 0)
