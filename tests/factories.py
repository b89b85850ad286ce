"""Typed async factories for identity objects, reused by every domain's tests.

Factories write directly (no audit events, no HTTP) and commit, so the app sees what they made.
``auth_headers`` mints a real session and access token for a user without an HTTP login;
``login`` goes through ``POST /v1/auth/token`` when the login itself matters.
"""

from __future__ import annotations

import itertools
import random
import uuid
from datetime import date
from functools import lru_cache
from typing import Any

import httpx
from argon2 import PasswordHasher
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from providers.clients import service as clients
from providers.clients.models import AuthMethod
from voucher_service.audit.models import AuditEvent
from voucher_service.auth import sessions
from voucher_service.auth.tokens import issue_access_token
from voucher_service.db import Database
from voucher_service.organisations.credit_code import CHARSET, check_character
from voucher_service.organisations.models import (
    EnterpriseSize,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
)
from voucher_service.users.models import ROLES_BY_KIND, Role, User, UserStatus

DEFAULT_PASSWORD = "Correct-Horse-42"
_sequence = itertools.count(1)
_random = random.Random(20261129)

DEFAULT_ROLE = {
    OrganisationKind.enterprise: Role.owner,
    OrganisationKind.provider: Role.operator,
    OrganisationKind.authority: Role.program_admin,
}


@lru_cache(maxsize=8)
def password_hash(password: str = DEFAULT_PASSWORD) -> str:
    """A cheap argon2id hash (verification reads the parameters from the hash itself)."""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(password)


def make_credit_code(region_code: str = "110000") -> str:
    """A fresh, valid unified social credit code in ``region_code``."""
    body = "91" + region_code + "".join(_random.choice(CHARSET) for _ in range(9))
    return body + check_character(body)


async def create_organisation(
    session: AsyncSession,
    *,
    kind: OrganisationKind = OrganisationKind.enterprise,
    name: str | None = None,
    credit_code: str | None = None,
    status: OrganisationStatus = OrganisationStatus.active,
    founded_on: date | None = None,
    size: EnterpriseSize | None = None,
    industry: str | None = None,
) -> Organisation:
    """An organisation of ``kind``; enterprises and providers get a valid credit code."""
    code = credit_code or (None if kind == OrganisationKind.authority else make_credit_code())
    organisation = Organisation(
        kind=kind,
        name=name or f"{kind} {next(_sequence)}",
        credit_code=code,
        region_code=code[2:8] if code else None,
        status=status,
        founded_on=founded_on,
        size=size,
        industry=industry,
    )
    session.add(organisation)
    await session.commit()
    return organisation


async def create_user(
    session: AsyncSession,
    *,
    organisation: Organisation | None = None,
    role: Role | None = None,
    email: str | None = None,
    password: str | None = DEFAULT_PASSWORD,
    status: UserStatus = UserStatus.active,
    name: str = "Test User",
) -> User:
    """A user (with an organisation of the fitting kind made for it if none is given)."""
    if organisation is None:
        kind = next((k for k, roles in ROLES_BY_KIND.items() if role in roles), None)
        organisation = await create_organisation(session, kind=kind or OrganisationKind.enterprise)
    role = role or DEFAULT_ROLE[OrganisationKind(organisation.kind)]
    user = User(
        organisation_id=organisation.id,
        email=email or f"user{next(_sequence)}-{uuid.uuid4().hex[:6]}@example.cn",
        name=name,
        role=role,
        status=status,
        password_hash=password_hash(password) if password else None,
    )
    session.add(user)
    await session.commit()
    return user


async def auth_headers(app: FastAPI, session: AsyncSession, user: User) -> dict[str, str]:
    """``Authorization`` headers for ``user``: a real session and access token, no HTTP login."""
    settings = app.state.settings
    grant = await sessions.start_session(session, user.id, settings)
    await session.commit()
    token = issue_access_token(
        app.state.keyring,
        settings,
        kind="user",
        subject=user.id,
        organisation_id=user.organisation_id,
        role=user.role,
        session_id=grant.session.id,
        epoch=user.auth_epoch,
        lifetime_seconds=settings.access_token_seconds,
    )
    return {"Authorization": f"Bearer {token.token}"}


async def login(
    client: httpx.AsyncClient, email: str, password: str = DEFAULT_PASSWORD
) -> dict[str, Any]:
    """The token response of a password login through the API (asserts success)."""
    response = await client.post("/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def create_provider_client(
    app: FastAPI,
    session: AsyncSession,
    *,
    organisation: Organisation | None = None,
    auth_method: AuthMethod = AuthMethod.client_secret,
    scopes: list[str] | None = None,
    public_jwk: dict[str, Any] | None = None,
) -> clients.IssuedCredential:
    """An API client of a provider (made if not given); ``client_secret`` is in the result."""
    if organisation is None:
        organisation = await create_organisation(session, kind=OrganisationKind.provider)
    issued = await clients.create_client(
        session,
        organisation_id=organisation.id,
        name="test client",
        auth_method=auth_method,
        pepper=app.state.client_secret_pepper,
        scopes=scopes,
        public_jwk=public_jwk,
    )
    await session.commit()
    return issued


async def client_token(
    client: httpx.AsyncClient, issued: clients.IssuedCredential, scope: str | None = None
) -> str:
    """An access token for a ``client_secret`` API client through ``POST /v1/oauth/token``."""
    form = {
        "grant_type": "client_credentials",
        "client_id": issued.client.client_id,
        "client_secret": issued.client_secret or "",
    }
    if scope:
        form["scope"] = scope
    response = await client.post("/v1/oauth/token", data=form)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def provider_headers(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, **kwargs: Any
) -> dict[str, str]:
    """Bearer headers of a fresh API client of a provider (made if not given)."""
    issued = await create_provider_client(app, session, **kwargs)
    return bearer(await client_token(client, issued))


async def audit_events(database: Database, action: str | None = None) -> list[AuditEvent]:
    """Audit events (oldest first), read in a unit of work of their own that holds no lock."""
    query = select(AuditEvent).order_by(col(AuditEvent.id))
    if action:
        query = query.where(col(AuditEvent.action) == action)
    async with database.unit_of_work(readonly=True) as session:
        return list((await session.scalars(query)).all())
