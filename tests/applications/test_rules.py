"""Each rule of a programme refuses with a problem naming it, in English or Chinese."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, update

from providers.registry.models import ProviderProfile, ProviderState
from tests.applications.helpers import (
    PDF,
    PNG,
    attach,
    authority_people,
    contract,
    decide,
    enterprise_user,
    submitted,
)
from tests.programs.factories import create_program, create_provider, create_voucher
from voucher_service.programs.models import ProgramStatus

# Programmes end with publicity; zero days make an award ready for final approval at once.
ONE_STAGE = [{"name": "publicity", "kind": "publicity", "days": 0}]


async def setup(
    app: FastAPI, session: AsyncSession, *, budget: int = 1_000_000_00, **program: Any
) -> tuple[Any, Any, dict[str, str]]:
    provider = await create_provider(session)
    program_row = await create_program(
        session, providers=[provider], budget=budget, review_stages=ONE_STAGE, **program
    )
    _enterprise, headers = await enterprise_user(app, session)
    return provider, program_row, headers


async def draft(client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]) -> str:
    response = await client.post("/v1/applications", json=body, headers=headers)
    assert response.status_code == 201, response.text
    application_id = str(response.json()["id"])
    assert (await attach(client, headers, application_id)).status_code == 201
    licence = await attach(client, headers, application_id, "business_licence", "l.png", PNG)
    assert licence.status_code == 201
    return application_id


@pytest.mark.parametrize("status", [ProgramStatus.draft, ProgramStatus.closed])
async def test_application_window_closed(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, status: ProgramStatus
) -> None:
    provider, program, headers = await setup(app, session, status=status)
    response = await client.post(
        "/v1/applications",
        json=contract(provider, program),
        headers=headers | {"Accept-Language": "zh-CN"},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "application_window_closed"
    assert response.json()["title"] == "该项目当前不受理申请"


async def test_window_closed_at_submission(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    provider, program, headers = await setup(app, session)
    application_id = await draft(client, headers, contract(provider, program))
    program.status = ProgramStatus.closed
    await session.commit()
    response = await client.post(f"/v1/applications/{application_id}/submit", headers=headers)
    assert response.json()["code"] == "application_window_closed"


async def test_contract_outside_window(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    provider, program, headers = await setup(
        app, session, eligible_from_on=date(2025, 3, 1), eligible_until_on=date(2025, 12, 31)
    )
    body = contract(
        provider, program, contract_starts_on="2026-01-01", contract_ends_on="2026-06-30"
    )
    response = await client.post("/v1/applications", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["code"] == "contract_outside_window"


async def test_contract_already_claimed(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    provider, program, headers = await setup(app, session)
    body = contract(provider, program)
    assert (await client.post("/v1/applications", json=body, headers=headers)).status_code == 201
    _other, other_headers = await enterprise_user(app, session)
    again = await client.post("/v1/applications", json=body, headers=other_headers)
    assert again.status_code == 409 and again.json()["code"] == "contract_already_claimed"


async def test_provider_not_eligible_and_suspended(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    provider, program, headers = await setup(app, session)
    stranger = await create_provider(session)
    response = await client.post(
        "/v1/applications", json=contract(stranger, program), headers=headers
    )
    assert response.status_code == 422 and response.json()["code"] == "provider_not_eligible"
    await session.execute(
        update(ProviderProfile)
        .where(col(ProviderProfile.organisation_id) == provider.id)
        .values(state=ProviderState.suspended)
    )
    await session.commit()
    response = await client.post(
        "/v1/applications", json=contract(provider, program), headers=headers
    )
    assert response.status_code == 409 and response.json()["code"] == "provider_suspended"


async def test_provider_suspended_before_final_approval(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    provider, program, headers = await setup(app, session)
    application = await submitted(client, headers, contract(provider, program))
    await session.execute(
        update(ProviderProfile)
        .where(col(ProviderProfile.organisation_id) == provider.id)
        .values(state=ProviderState.suspended)
    )
    await session.commit()
    (reviewer,) = await authority_people(app, session, 1)
    response = await decide(client, reviewer, application["id"])
    assert response.status_code == 409 and response.json()["code"] == "provider_suspended"


async def test_related_party_declared(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    provider, program, headers = await setup(app, session)
    body = contract(
        provider,
        program,
        related_party_declared=True,
        related_party_note="The provider's founder is our shareholder.",
    )
    application_id = await draft(client, headers, body)
    response = await client.post(f"/v1/applications/{application_id}/submit", headers=headers)
    assert response.status_code == 422 and response.json()["code"] == "related_party_declared"


async def test_annual_cap_read_from_the_ledger(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    provider, program, headers = await setup(app, session, enterprise_annual_cap_amount=50_000_00)
    me = (await client.get("/v1/organisations/me", headers=headers)).json()
    holder = await session.get(type(provider), uuid.UUID(me["id"]))
    # Another programme of the same kind this year already gave 30,000 CNY: 20,000 remain.
    await create_voucher(session, amount=30_000_00, holder=holder, provider=provider)
    application_id = await draft(client, headers, contract(provider, program))
    preview = await client.get(f"/v1/applications/{application_id}/eligibility", headers=headers)
    assert preview.json()["eligible_amount"] == 20_000_00
    assert preview.json()["working"]["awarded_this_year"] == 30_000_00
    # Then 20,000 more: nothing remains, and submission names the cap.
    await create_voucher(session, amount=20_000_00, holder=holder, provider=provider)
    response = await client.post(f"/v1/applications/{application_id}/submit", headers=headers)
    assert response.status_code == 409 and response.json()["code"] == "annual_cap_exceeded"


async def test_budget_exhausted_at_submission(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    provider, program, headers = await setup(app, session, budget=0)
    application_id = await draft(client, headers, contract(provider, program))
    response = await client.post(
        f"/v1/applications/{application_id}/submit", headers=headers | {"Accept-Language": "zh"}
    )
    assert response.status_code == 409 and response.json()["code"] == "budget_exhausted"
    assert response.json()["title"] == "项目剩余预算不足"


async def test_attachment_required_names_what_is_missing(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    provider, program, headers = await setup(app, session)
    created = await client.post(
        "/v1/applications", json=contract(provider, program), headers=headers
    )
    application_id = created.json()["id"]
    await attach(client, headers, application_id, "contract", "c.pdf", PDF)
    response = await client.post(f"/v1/applications/{application_id}/submit", headers=headers)
    assert response.status_code == 422
    assert response.json()["code"] == "attachment_required"
    assert response.json()["missing"] == ["business_licence"]


async def test_bad_contract_dates_and_amounts_are_422(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    provider, program, headers = await setup(app, session)
    for change in (
        {"contract_amount": 0},
        {"contract_amount": 1.5},
        {"contract_ends_on": "2024-12-31"},
        {"state": "approved"},
        {"eligible_amount": 1},
    ):
        response = await client.post(
            "/v1/applications", json=contract(provider, program, **change), headers=headers
        )
        assert response.status_code == 422, change
        assert response.json()["code"] == "validation_error"
