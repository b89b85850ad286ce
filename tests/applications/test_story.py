"""End to end through the API: a programme is funded, an enterprise registers and applies, two
review stages and publicity pass, the final approval issues the voucher with the worked example's
amount, and the ledger and the programme's figures add up."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, update

import ledger
from ledger.sqltypes import utcnow
from tests.applications.helpers import (
    PDF,
    PNG,
    WORKED_EXAMPLE_AMOUNT,
    attach,
    authority_people,
    contract,
    decide,
)
from tests.factories import DEFAULT_PASSWORD, audit_events, login, make_credit_code
from tests.programs.factories import create_provider
from voucher_service.applications.models import Application
from voucher_service.db import Database
from voucher_service.programs import service as programs
from voucher_service.programs.models import Program
from voucher_service.users.models import Role
from voucher_service.vouchers import service as vouchers
from voucher_service.vouchers.models import Voucher

BUDGET = 1_000_000_00


async def end_publicity(database: Database, application_id: str) -> None:
    """Let the publicity days pass."""
    async with database.unit_of_work() as session:
        await session.execute(
            update(Application)
            .where(col(Application.id) == uuid.UUID(application_id))
            .values(publicity_until=utcnow() - timedelta(seconds=1))
        )


async def register_enterprise(client: httpx.AsyncClient) -> dict[str, str]:
    email = f"founder-{uuid.uuid4().hex[:8]}@example.cn"
    body = {
        "organisation": {"name": "北京智算科技有限公司", "credit_code": make_credit_code()},
        "owner": {"email": email, "name": "创始人", "password": DEFAULT_PASSWORD},
    }
    response = await client.post("/v1/auth/register", json=body)
    assert response.status_code == 201, response.text
    tokens = await login(client, email)
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def create_and_fund_programme(
    client: httpx.AsyncClient, admin: dict[str, str], finance: dict[str, str], provider_id: str
) -> str:
    """Through the authority's routes: create, list the provider, fund, open."""
    today = date.today()
    body = {
        "name": "2025 算力券",
        "kind": "compute",
        "mode": "point_of_sale",
        "fiscal_year": today.year,
        "default_rate_bp": 3000,
        "rounding_unit": "yuan",
        "opens_on": str(today - timedelta(days=10)),
        "closes_on": str(today + timedelta(days=60)),
        "eligible_from_on": "2025-03-01",
        "eligible_until_on": "2025-12-31",
        "validity_days": 365,
        "review_stages": [
            {"name": "preliminary", "kind": "review", "days": 0},
            {"name": "expert", "kind": "review", "days": 0},
            {"name": "publicity", "kind": "publicity", "days": 5},
        ],
    }
    created = await client.post("/v1/admin/programs", json=body, headers=admin)
    assert created.status_code == 201, created.text
    program_id = str(created.json()["id"])
    base = f"/v1/admin/programs/{program_id}"
    listed = await client.post(
        f"{base}/providers", json={"provider_id": provider_id}, headers=admin
    )
    assert listed.status_code in (200, 201), listed.text
    funded = await client.post(
        f"{base}/fund", json={"amount": BUDGET}, headers=finance | {"Idempotency-Key": "fund-1"}
    )
    assert funded.status_code in (200, 201), funded.text
    opened = await client.post(f"{base}/open", headers=admin)
    assert opened.status_code == 200, opened.text
    return program_id


async def test_apply_review_publicise_approve_issue(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    provider = await create_provider(session)
    (admin,) = await authority_people(app, session, 1, role=Role.program_admin)
    (finance,) = await authority_people(app, session, 1, role=Role.finance)
    program_id = await create_and_fund_programme(client, admin, finance, str(provider.id))
    program = await session.get(Program, uuid.UUID(program_id))
    assert program is not None
    first, second = await authority_people(app, session, 2)
    enterprise = await register_enterprise(client)

    # Apply: the eligible amount and its working are shown before anything is submitted.
    created = await client.post(
        "/v1/applications", json=contract(provider, program), headers=enterprise
    )
    assert created.status_code == 201, created.text
    application = created.json()
    app_id = application["id"]
    assert application["state"] == "draft"
    assert application["eligible_amount"] == WORKED_EXAMPLE_AMOUNT
    preview = await client.get(f"/v1/applications/{app_id}/eligibility", headers=enterprise)
    working = preview.json()["working"]
    assert (working["contract_days"], working["overlap_days"], working["rate_bp"]) == (
        729,
        305,
        3000,
    )
    assert working["rounding"] == "yuan"
    assert preview.json()["eligible_amount"] == WORKED_EXAMPLE_AMOUNT

    # Submitting without attachments names the rule; with them it enters the first stage.
    refused = await client.post(f"/v1/applications/{app_id}/submit", headers=enterprise)
    assert refused.status_code == 422 and refused.json()["code"] == "attachment_required"
    assert (
        await attach(client, enterprise, app_id, "contract", "合同.pdf", PDF)
    ).status_code == 201
    assert (
        await attach(client, enterprise, app_id, "business_licence", "l.png", PNG)
    ).status_code == 201
    submitted = await client.post(f"/v1/applications/{app_id}/submit", headers=enterprise)
    assert submitted.json()["state"] == "submitted"
    assert submitted.json()["stage_name"] == "preliminary"

    # The first stage's queue holds it; two review stages in order.
    queue = await client.get(
        "/v1/admin/applications", params={"program": str(program.id), "stage": 0}, headers=first
    )
    assert [item["id"] for item in queue.json()["items"]] == [app_id]
    assert (await decide(client, first, app_id, comment="材料齐全")).json()["application"][
        "stage_name"
    ] == "expert"
    in_publicity = (await decide(client, second, app_id, comment="专家评审通过")).json()
    assert in_publicity["application"]["state"] == "publicity"

    # Publicity: listed publicly without personal data; objections are stored for reviewers.
    listed = (await client.get("/v1/publicity")).json()["items"]
    assert [entry["id"] for entry in listed] == [app_id]
    assert listed[0]["award_amount"] == WORKED_EXAMPLE_AMOUNT
    assert "contract_number" not in listed[0] and "@" not in str(listed[0])
    objection = await client.post(
        f"/v1/publicity/{app_id}/objections", json={"text": "请核实该合同的真实性。"}
    )
    assert objection.status_code == 201, objection.text
    early = await decide(client, first, app_id)
    assert early.status_code == 409 and early.json()["code"] == "publicity_in_progress"

    # After publicity: four-eyes, then the final approval issues the voucher.
    await end_publicity(database, app_id)
    same = await decide(client, second, app_id)
    assert same.status_code == 409 and same.json()["code"] == "four_eyes_required"
    final = await decide(client, first, app_id, comment="同意发放")
    assert final.status_code == 200, final.text
    approved = final.json()["application"]
    assert approved["state"] == "approved"
    assert approved["awarded_amount"] == WORKED_EXAMPLE_AMOUNT
    assert [o["text"] for o in approved["objections"]] == ["请核实该合同的真实性。"]
    assert (await client.get("/v1/publicity")).json()["items"] == []

    # The voucher and the money.
    voucher = await session.get(Voucher, uuid.UUID(approved["voucher_id"]))
    assert voucher is not None and voucher.issued_amount == WORKED_EXAMPLE_AMOUNT
    assert voucher.rate_bp == 3000
    assert (await vouchers.balance_of(session, voucher)).available == WORKED_EXAMPLE_AMOUNT
    trial = await ledger.trial_balance(session)
    assert trial.balanced
    figures = await programs.figures(session, program)
    assert figures.budget == BUDGET
    assert figures.committed == WORKED_EXAMPLE_AMOUNT
    assert (
        figures.available
        == BUDGET - WORKED_EXAMPLE_AMOUNT
        == await programs.remaining_budget(session, program)
    )

    # The applicant sees the timeline with comments, not who wrote them.
    mine = (await client.get(f"/v1/applications/{app_id}", headers=enterprise)).json()
    assert [(t["stage_name"], t["decision"], t["comment"]) for t in mine["timeline"]] == [
        ("preliminary", "approve", "材料齐全"),
        ("expert", "approve", "专家评审通过"),
        ("publicity", "approve", "同意发放"),
    ]
    assert "actor_label" not in mine["timeline"][0]
    events = await audit_events(database)
    actions = [event.action for event in events]
    decisions = [
        (e.outcome, e.reason) for e in events if e.action == "application.decision.approve"
    ]
    assert decisions == [
        ("success", None),
        ("success", None),
        ("failure", "publicity_in_progress"),
        ("failure", "four_eyes_required"),
        ("success", None),
    ]
    assert "voucher.issued" in actions and "application.submitted" in actions
