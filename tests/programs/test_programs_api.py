"""Programmes through the API: configuration, funding, lifecycle and figures from the ledger."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

import ledger
from tests.programs.factories import (
    FACTORY,
    create_program,
    create_provider,
    create_voucher,
    headers_for,
    program_values,
)
from voucher_service.programs import eligibility
from voucher_service.programs import service as programs
from voucher_service.programs.figures import payout_reference
from voucher_service.programs.models import ProgramStatus
from voucher_service.users.models import Role
from voucher_service.vouchers import lifecycle


def as_json(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


@pytest.fixture
async def admin(app: FastAPI, session: AsyncSession) -> dict[str, str]:
    return await headers_for(app, session, Role.program_admin)


@pytest.fixture
async def finance(app: FastAPI, session: AsyncSession) -> dict[str, str]:
    return await headers_for(app, session, Role.finance)


async def test_create_patch_open_close_archive(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    created = await client.post("/v1/admin/programs", json=as_json(program_values()), headers=admin)
    assert created.status_code == 201, created.text
    program = created.json()
    assert (program["status"], program["figures"]["budget"]) == ("draft", 0)
    url = f"/v1/admin/programs/{program['id']}"
    assert (await client.get(f"/v1/programs/{program['id']}")).status_code == 404  # a draft

    patched = await client.patch(url, json={"default_rate_bp": 2500}, headers=admin)
    assert patched.json()["default_rate_bp"] == 2500
    nothing_listed = await client.post(url + "/open", headers=admin)
    assert (nothing_listed.status_code, nothing_listed.json()["code"]) == (
        422,
        "invalid_program_rules",
    )
    provider = await create_provider(session)
    listed = await client.post(
        url + "/providers", json={"provider_id": str(provider.id)}, headers=admin
    )
    assert listed.json() == [str(provider.id)]
    assert (await client.post(url + "/open", headers=admin)).json()["status"] == "open"
    frozen_rules = await client.patch(url, json={"default_rate_bp": 9000}, headers=admin)
    assert (frozen_rules.status_code, frozen_rules.json()["code"]) == (
        409,
        "program_state_conflict",
    )
    public = await client.get(f"/v1/programs/{program['id']}")
    assert public.status_code == 200 and "two_approver_threshold_amount" not in public.json()
    assert [p["id"] for p in (await client.get("/v1/programs")).json()["items"]] == [program["id"]]

    assert (await client.post(url + "/archive", headers=admin)).status_code == 409
    assert (await client.post(url + "/close", headers=admin)).json()["status"] == "closed"
    assert (await client.post(url + "/archive", headers=admin)).json()["status"] == "archived"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"closes_on": "2000-01-01"}, "closes_on is before opens_on"),
        ({"review_stages": [{"name": "a", "kind": "review"}]}, "publicity"),
        ({"validity_days": None, "valid_until_on": None}, "validity"),
        ({"rate_tiers": [{"rule": "small_contract", "rate_bp": 5000}]}, "max_contract_amount"),
        ({"default_rate_bp": 10001}, "default_rate_bp"),
        ({"name": None}, "name"),
        ({"surprise": 1}, "surprise"),
    ],
)
async def test_bad_rules_are_refused_with_a_code(
    client: httpx.AsyncClient, admin: dict[str, str], change: dict[str, Any], field: str
) -> None:
    refused = await client.post(
        "/v1/admin/programs", json=as_json(program_values()) | change, headers=admin
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] in {"validation_error", "invalid_program_rules"}
    assert field in refused.text


async def test_funding_is_idempotent_and_needs_a_key(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    finance: dict[str, str],
    session: AsyncSession,
) -> None:
    program = await create_program(session, status=ProgramStatus.draft)
    url = f"/v1/admin/programs/{program.id}/fund"
    keyed = finance | {"Idempotency-Key": "budget-2026-1"}
    first = await client.post(url, json={"amount": 600_000_000_00}, headers=keyed)
    assert first.status_code == 200, first.text
    again = await client.post(url, json={"amount": 600_000_000_00}, headers=keyed)
    assert again.json()["replayed"] is True
    assert again.json()["transaction_id"] == first.json()["transaction_id"]
    other = await client.post(url, json={"amount": 1}, headers=keyed)
    assert (other.status_code, other.json()["code"]) == (409, "funding_key_reused")
    keyless = await client.post(url, json={"amount": 1}, headers=finance)
    assert (keyless.status_code, keyless.json()["code"]) == (422, "idempotency_key_required")
    by_field = await client.post(url, json={"amount": 5, "client_reference": "r"}, headers=finance)
    assert by_field.json()["available_amount"] == 600_000_000_05
    assert (
        await client.post(url, json={"amount": 0, "client_reference": "z"}, headers=finance)
    ).status_code == 422
    assert (
        await client.post(url, json={"amount": 1.5, "client_reference": "f"}, headers=finance)
    ).status_code == 422
    assert (
        await client.post(url, json={"amount": 5, "client_reference": "a"}, headers=admin)
    ).status_code == 403
    figures = (await client.get(f"/v1/admin/programs/{program.id}/figures", headers=admin)).json()
    assert (figures["budget"], figures["available"]) == (600_000_000_05, 600_000_000_05)


async def test_price_ceilings(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    program = await create_program(session)
    url = f"/v1/admin/programs/{program.id}/price-ceilings"
    body = {"resource": "gpu_hour", "unit": "hour", "max_unit_price_amount": 25_00}
    assert (await client.put(url, json=body, headers=admin)).status_code == 200
    await client.put(url, json=body | {"max_unit_price_amount": 20_00}, headers=admin)
    ceiling = await programs.price_ceiling(session, program.id, "gpu_hour", "hour")
    assert ceiling is not None and ceiling.max_unit_price_amount == 20_00
    assert await programs.price_ceiling(session, program.id, "gpu_hour", "day") is None
    bad = await client.put(url, json=body | {"max_unit_price_amount": -1}, headers=admin)
    assert bad.status_code == 422


async def test_eligibility_rule_reproduces_the_design_example(session: AsyncSession) -> None:
    program = await create_program(
        session,
        rate_tiers=[],
        default_rate_bp=3000,
        rounding_unit="yuan",
        eligible_from_on=date(2025, 3, 1),
        eligible_until_on=date(2025, 12, 31),
    )
    rule = programs.eligibility_rule(program)
    contract = eligibility.Contract(200_000_00, date(2025, 1, 1), date(2026, 12, 31))
    result = eligibility.compute(rule, eligibility.Applicant(), contract, on=date(2025, 2, 1))
    assert result.eligible_amount == 25_102_00
    startup = await create_program(session, enterprise_annual_cap_amount=10_000_00)
    tiers = programs.eligibility_rule(startup).tiers
    assert [(t.rule, t.rate_bp) for t in tiers] == [("startup", 6000), ("default", 3000)]
    assert programs.eligibility_rule(startup).caps.per_enterprise_annual_amount == 10_000_00


async def test_figures_add_up_through_every_flow(session: AsyncSession) -> None:
    provider = await create_provider(session)
    program = await create_program(session, providers=[provider], budget=1_000_00)
    first = await create_voucher(session, amount=400_00, program=program, provider=provider)
    second = await create_voucher(session, amount=300_00, program=program, provider=provider)
    specs = [
        ledger.chart.voucher(first.id),
        ledger.chart.voucher(second.id),
        ledger.chart.provider_payable(provider.id),
        ledger.chart.enterprise_payable(second.holder_id),
        ledger.chart.treasury(),
    ]
    accounts = await ledger.open_accounts(session, specs)
    a, b, payable, claims, treasury = (accounts[spec.code] for spec in specs)

    async def move(
        client_id: str,
        debit: ledger.Account,
        credit: ledger.Account,
        amount: int,
        reference: str | None = None,
    ) -> None:
        outcome = await ledger.transfer(
            session, client_id, [ledger.Transfer(debit, credit, amount)], reference=reference
        )
        outcome.unwrap()

    await move("t:capture", a, payable, 150_00)
    await move("t:refund", payable, a, 50_00)
    await move("t:claim", b, claims, 100_00)
    await move("t:payout", payable, treasury, 60_00, payout_reference(program.id, uuid.uuid4()))
    held = await ledger.hold(
        session, "t:hold", ledger.Transfer(a, payable, 20_00), timeout=timedelta(minutes=5)
    )
    held.unwrap()
    await lifecycle.revoke(session, second, reason="contract cancelled", actor=FACTORY)
    await session.commit()

    figures = await programs.figures(session, program)
    assert figures == programs.ProgramFigures(
        budget=1_000_00,
        committed=700_00,
        spent=200_00,
        paid_out=60_00,
        returned=200_00,
        available=500_00,
        outstanding=300_00,
        on_hold=20_00,
    )
    assert figures.available == figures.budget - figures.committed + figures.returned
    assert figures.committed == figures.returned + figures.spent + figures.outstanding
    assert (await ledger.trial_balance(session)).balanced
