"""Shared arrangements of the webhook route tests."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import auth_headers, create_organisation, create_user
from voucher_service.organisations.models import Organisation, OrganisationKind
from voucher_service.users.models import Role

ENDPOINT = "/v1/provider/webhook-endpoint"


async def operator_of(
    app: FastAPI, session: AsyncSession, provider: Organisation | None = None
) -> tuple[Organisation, dict[str, str]]:
    """A provider (made if not given) and the headers of one of its operators."""
    provider = provider or await create_organisation(session, kind=OrganisationKind.provider)
    user = await create_user(session, organisation=provider, role=Role.operator)
    return provider, await auth_headers(app, session, user)


async def authority_user(app: FastAPI, session: AsyncSession, role: Role) -> dict[str, str]:
    """Headers of an authority user holding ``role``."""
    return await auth_headers(app, session, await create_user(session, role=role))


async def save_endpoint(
    client: httpx.AsyncClient, headers: dict[str, str], url: str, events: list[str]
) -> dict[str, Any]:
    """PUT the endpoint through the API; returns the answer (asserting success)."""
    response = await client.put(ENDPOINT, json={"url": url, "events": events}, headers=headers)
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]
