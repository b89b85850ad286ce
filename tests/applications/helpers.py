"""Helpers for the applications tests: files, people, and applications at a given point."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import auth_headers, create_organisation, create_user
from voucher_service.organisations.models import Organisation, OrganisationKind
from voucher_service.programs.models import Program
from voucher_service.users.models import Role

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(32)

_numbers = itertools.count(1)

#: DESIGN §3's worked example: 200,000 CNY, 2025-01-01 → 2026-12-31, eligible period
#: 2025-03-01 → 2025-12-31, 30 %, rounding to the yuan → 25,102 CNY.
WORKED_EXAMPLE_AMOUNT = 25_102_00


def contract(provider: Organisation, program: Program, **overrides: Any) -> dict[str, Any]:
    """A body for ``POST /v1/applications``: the worked example's contract."""
    body: dict[str, Any] = {
        "program_id": str(program.id),
        "provider_id": str(provider.id),
        "contract_number": f"HT-2025-{next(_numbers):04d}",
        "contract_amount": 200_000_00,
        "contract_signed_on": "2024-12-20",
        "contract_starts_on": "2025-01-01",
        "contract_ends_on": "2026-12-31",
        "project_name": "大模型训练算力",
        "project_summary": "Training a model on rented GPUs.",
    }
    body.update(overrides)
    return body


async def enterprise_user(
    app: FastAPI, session: AsyncSession, **organisation: Any
) -> tuple[Organisation, dict[str, str]]:
    """An enterprise and its owner's headers."""
    enterprise = await create_organisation(
        session, kind=OrganisationKind.enterprise, **organisation
    )
    owner = await create_user(session, organisation=enterprise, role=Role.owner)
    return enterprise, await auth_headers(app, session, owner)


async def authority_people(
    app: FastAPI, session: AsyncSession, count: int = 2, role: Role = Role.reviewer
) -> list[dict[str, str]]:
    """``count`` people of the authority with ``role``, as request headers."""
    authority = await create_organisation(session, kind=OrganisationKind.authority)
    people = []
    for _ in range(count):
        user = await create_user(session, organisation=authority, role=role)
        people.append(await auth_headers(app, session, user))
    return people


async def attach(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    application_id: str,
    kind: str = "contract",
    name: str = "contract.pdf",
    content: bytes = PDF,
) -> httpx.Response:
    return await client.post(
        f"/v1/applications/{application_id}/attachments",
        data={"kind": kind},
        files={"file": (name, content, "application/octet-stream")},
        headers=headers,
    )


async def submitted(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    """Draft, attach the required files and submit; returns the submitted application."""
    created = await client.post("/v1/applications", json=body, headers=headers)
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]
    assert (await attach(client, headers, application_id)).status_code == 201
    licence = await attach(client, headers, application_id, "business_licence", "licence.png", PNG)
    assert licence.status_code == 201, licence.text
    response = await client.post(f"/v1/applications/{application_id}/submit", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def decide(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    application_id: str,
    decision: str = "approve",
    comment: str = "",
) -> httpx.Response:
    return await client.post(
        f"/v1/admin/applications/{application_id}/decisions",
        json={"decision": decision, "comment": comment},
        headers=headers,
    )


def days_ago(days: int) -> date:
    return date.today() - timedelta(days=days)
