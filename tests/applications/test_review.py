"""Review through the API: returns and resubmission, rejection, withdrawal, two approvers,
contract-date order (FIFO) and pro-rata batches."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

import ledger
from tests.applications.helpers import (
    authority_people,
    contract,
    decide,
    enterprise_user,
    submitted,
)
from tests.factories import audit_events
from tests.programs.factories import create_program, create_provider
from voucher_service.db import Database
from voucher_service.users.models import Role

TWO_STAGES = [
    {"name": "preliminary", "kind": "review", "days": 0},
    {"name": "publicity", "kind": "publicity", "days": 0},
]
# Programmes end with publicity; zero days make an award ready for final approval at once.
ONE_STAGE = [{"name": "publicity", "kind": "publicity", "days": 0}]


async def one_application(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, **program: Any
) -> tuple[dict[str, Any], dict[str, str]]:
    provider = await create_provider(session)
    budget = program.pop("budget", 1_000_000_00)
    program_row = await create_program(session, providers=[provider], budget=budget, **program)
    _enterprise, headers = await enterprise_user(app, session)
    return await submitted(client, headers, contract(provider, program_row)), headers


async def test_return_edit_resubmit_keeps_history(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    application, headers = await one_application(app, client, session, review_stages=TWO_STAGES)
    app_id = application["id"]
    first, second = await authority_people(app, session, 2)
    at_first_stage = {"decision": "approve", "stage_index": 0}
    url = f"/v1/admin/applications/{app_id}/decisions"
    assert (await client.post(url, json=at_first_stage, headers=first)).status_code == 200
    retried = await client.post(url, json=at_first_stage, headers=first)
    assert retried.status_code == 409 and retried.json()["stage_index"] == 1
    silent = await decide(client, second, app_id, "return")
    assert silent.status_code == 422 and silent.json()["code"] == "comment_required"
    returned = await decide(client, second, app_id, "return", "请补充项目说明")
    assert returned.json()["application"]["state"] == "returned"
    patched = await client.patch(
        f"/v1/applications/{app_id}", json={"project_summary": "补充后的说明"}, headers=headers
    )
    assert patched.status_code == 200, patched.text
    again = await client.post(f"/v1/applications/{app_id}/submit", headers=headers)
    assert again.json()["state"] == "submitted" and again.json()["round"] == 2
    # In the new round the first stage starts again; the earlier round's decisions are kept.
    assert (await decide(client, second, app_id)).status_code == 200
    final = await decide(client, first, app_id)
    assert final.json()["application"]["state"] == "approved", final.text
    timeline = (await client.get(f"/v1/applications/{app_id}", headers=headers)).json()["timeline"]
    assert [(t["round"], t["decision"]) for t in timeline] == [
        (1, "approve"),
        (1, "return"),
        (2, "approve"),
        (2, "approve"),
    ]
    assert timeline[1]["comment"] == "请补充项目说明"


async def test_no_edits_while_in_review_and_withdrawal(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    application, headers = await one_application(app, client, session, review_stages=TWO_STAGES)
    app_id = application["id"]
    refused = await client.patch(
        f"/v1/applications/{app_id}", json={"project_name": "x"}, headers=headers
    )
    assert refused.status_code == 409 and refused.json()["code"] == "application_state_conflict"
    withdrawn = await client.post(f"/v1/applications/{app_id}/withdraw", headers=headers)
    assert withdrawn.json()["state"] == "withdrawn"
    (reviewer,) = await authority_people(app, session, 1)
    late = await decide(client, reviewer, app_id)
    assert late.status_code == 409 and late.json()["code"] == "application_state_conflict"


async def test_rejection_is_final(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    application, headers = await one_application(app, client, session, review_stages=ONE_STAGE)
    (reviewer,) = await authority_people(app, session, 1)
    rejected = await decide(client, reviewer, application["id"], "reject", "不符合条件")
    assert rejected.json()["application"]["state"] == "rejected"
    again = await client.post(f"/v1/applications/{application['id']}/submit", headers=headers)
    assert again.status_code == 409


async def test_two_distinct_approvers_above_threshold(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    application, _headers = await one_application(
        app, client, session, review_stages=ONE_STAGE, two_approver_threshold_amount=10_000_00
    )
    app_id = application["id"]
    assert application["eligible_amount"] > 10_000_00
    first, second = await authority_people(app, session, 2)
    recorded = await decide(client, first, app_id)
    assert recorded.json()["awaiting_second_approver"] is True
    assert recorded.json()["application"]["state"] == "publicity"
    assert recorded.json()["application"]["voucher_id"] is None
    same = await decide(client, first, app_id)
    assert same.status_code == 409 and same.json()["code"] == "four_eyes_required"
    issued = await decide(client, second, app_id)
    assert issued.json()["application"]["state"] == "approved"
    assert issued.json()["application"]["voucher_id"] is not None
    events = await audit_events(database, "application.decision.approve")
    assert [(e.outcome, e.reason) for e in events] == [
        ("success", None),
        ("failure", "four_eyes_required"),
        ("success", None),
    ]


async def test_sysadmins_and_auditors_never_decide(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    application, _ = await one_application(app, client, session, review_stages=ONE_STAGE)
    for role in (Role.sysadmin, Role.auditor, Role.finance):
        (person,) = await authority_people(app, session, 1, role=role)
        assert (await decide(client, person, application["id"])).status_code == 403


async def ready_applications(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    signed_on: Sequence[str],
    **program: Any,
) -> tuple[Any, list[str]]:
    provider = await create_provider(session)
    budget = program.pop("budget")
    program_row = await create_program(
        session, providers=[provider], budget=budget, review_stages=ONE_STAGE, **program
    )
    ids = []
    for day in signed_on:
        _enterprise, headers = await enterprise_user(app, session)
        body = contract(provider, program_row, contract_signed_on=day)
        ids.append((await submitted(client, headers, body))["id"])
    return program_row, ids


async def test_fifo_approves_in_contract_date_order(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    # Each award is 6,000,000 fen (30 % of 200,000 CNY); the budget covers one.
    _program, (later, earlier) = await ready_applications(
        app, client, session, ["2024-12-20", "2024-11-01"], budget=8_000_000
    )
    (reviewer,) = await authority_people(app, session, 1)
    out_of_order = await decide(client, reviewer, later)
    assert out_of_order.status_code == 409
    assert out_of_order.json()["code"] == "earlier_application_waiting"
    assert out_of_order.json()["application_id"] == earlier
    assert (await decide(client, reviewer, earlier)).json()["application"]["state"] == "approved"
    no_longer_fits = await decide(client, reviewer, later)
    assert no_longer_fits.status_code == 409
    assert no_longer_fits.json()["code"] == "budget_exhausted"
    refusals = await audit_events(database, "application.decision.approve")
    assert [(e.outcome, e.reason) for e in refusals if e.target_id == later] == [
        ("failure", "earlier_application_waiting"),
        ("failure", "budget_exhausted"),
    ]
    state = (await client.get(f"/v1/admin/applications/{later}", headers=reviewer)).json()
    assert state["state"] == "publicity" and state["voucher_id"] is None
    assert (await ledger.trial_balance(session)).balanced


async def test_pro_rata_batch_scales_to_the_budget(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    program, ids = await ready_applications(
        app,
        client,
        session,
        ["2024-12-01", "2024-12-02", "2024-12-03"],
        budget=10_000_001,
        oversubscription_policy="pro_rata",
    )
    (reviewer,) = await authority_people(app, session, 1)
    single = await decide(client, reviewer, ids[0])
    assert single.status_code == 409 and single.json()["code"] == "awaiting_batch_close"
    (admin,) = await authority_people(app, session, 1, role=Role.program_admin)
    closed = await client.post(f"/v1/admin/programs/{program.id}/batches/close", headers=admin)
    assert closed.status_code == 200, closed.text
    result = closed.json()
    # 3 × 6,000,000 requested for 10,000,001: each gets floor(6,000,000 × 10,000,001 / 18,000,000).
    assert result["requested_amount"] == 18_000_000
    assert sorted(result["issued"]) == sorted(ids)
    share = 6_000_000 * 10_000_001 // 18_000_000
    assert result["issued_amount"] == 3 * share <= 10_000_001
    for app_id in ids:
        row = (await client.get(f"/v1/admin/applications/{app_id}", headers=admin)).json()
        assert row["state"] == "approved" and row["awarded_amount"] == share
        assert row["eligibility"]["pro_rata"] is True
    assert (await ledger.trial_balance(session)).balanced


async def test_batch_close_only_for_pro_rata(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    program, _ids = await ready_applications(app, client, session, [], budget=100)
    (admin,) = await authority_people(app, session, 1, role=Role.program_admin)
    response = await client.post(f"/v1/admin/programs/{program.id}/batches/close", headers=admin)
    assert response.status_code == 409
    missing = await client.post(f"/v1/admin/programs/{uuid.uuid4()}/batches/close", headers=admin)
    assert missing.status_code == 404


async def test_a_retried_decision_with_its_key_is_answered_once(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    application, _headers = await one_application(app, client, session, review_stages=TWO_STAGES)
    (reviewer,) = await authority_people(app, session, 1)
    url = f"/v1/admin/applications/{application['id']}/decisions"
    keyed = reviewer | {"Idempotency-Key": "decision-1"}
    first = await client.post(url, json={"decision": "approve"}, headers=keyed)
    again = await client.post(url, json={"decision": "approve"}, headers=keyed)
    assert first.status_code == again.status_code == 200
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json()
    assert len(first.json()["application"]["timeline"]) == 1
    other = await client.post(url, json={"decision": "reject", "comment": "x"}, headers=keyed)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
