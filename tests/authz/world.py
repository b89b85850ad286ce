"""The cast of the authorisation matrix: two organisations of every kind and one actor per role.

Actors all belong to the "A" organisation of their kind; every organisation kind also has a "B"
organisation, so that each actor can be tried against objects of its own organisation and of
another one of the same kind (and of the other kinds). Later issues add their objects through
target factories (see ``matrix.py``), not by changing the cast.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import (
    auth_headers,
    bearer,
    client_token,
    create_organisation,
    create_provider_client,
    create_user,
)
from voucher_service.organisations.models import Organisation, OrganisationKind
from voucher_service.users.models import ROLES_BY_KIND, Role

_unique = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_unique)}"


@dataclass(frozen=True)
class Actor:
    """Someone calling the API: a user with a role, a provider's API client, or nobody."""

    name: str
    kind: OrganisationKind | None = None
    role: Role | None = None
    is_client: bool = False
    organisation: Organisation | None = None
    headers: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    user_id: uuid.UUID | None = field(default=None, compare=False)  # a person's, for the portal

    @property
    def is_user(self) -> bool:
        return self.role is not None

    @property
    def anonymous(self) -> bool:
        return self.organisation is None


@dataclass
class World:
    app: FastAPI
    client: httpx.AsyncClient
    session: AsyncSession
    organisations: dict[tuple[OrganisationKind, str], Organisation]
    actors: list[Actor]
    extras: dict[str, Any] = field(default_factory=dict)

    def org(self, kind: OrganisationKind, which: str = "A") -> Organisation:
        return self.organisations[(kind, which)]


async def build_world(app: FastAPI, client: httpx.AsyncClient, session: AsyncSession) -> World:
    """Two organisations per kind, and an actor for every role (plus an API client, anonymous)."""
    organisations = {
        (kind, which): await create_organisation(session, kind=kind, name=f"{kind} {which}")
        for kind in OrganisationKind
        for which in ("A", "B")
    }
    actors = [Actor("anonymous")]
    for kind, roles in ROLES_BY_KIND.items():
        home = organisations[(kind, "A")]
        for role in sorted(roles):
            user = await create_user(session, organisation=home, role=role)
            headers = await auth_headers(app, session, user)
            actors.append(Actor(f"{kind}:{role}", kind, role, False, home, headers, user.id))
    provider = organisations[(OrganisationKind.provider, "A")]
    issued = await create_provider_client(app, session, organisation=provider)
    headers = bearer(await client_token(client, issued))
    actors.append(
        Actor("provider:api_client", OrganisationKind.provider, None, True, provider, headers)
    )
    return World(app, client, session, organisations, actors)
