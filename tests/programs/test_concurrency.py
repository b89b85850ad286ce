"""Real concurrent requests against programme and voucher routes (PostgreSQL)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

import ledger
from ledger.models import transaction
from tests.programs.factories import create_program, create_voucher, headers_for
from voucher_service.programs import service as programs
from voucher_service.programs.models import ProgramStatus
from voucher_service.users.models import Role

pytestmark = pytest.mark.postgres_only


async def test_concurrent_funding_with_one_key_moves_money_once(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    program = await create_program(session, status=ProgramStatus.draft)
    finance = await headers_for(app, session, Role.finance)
    headers = finance | {"Idempotency-Key": "tranche-1"}
    url = f"/v1/admin/programs/{program.id}/fund"
    responses = await asyncio.gather(
        *(client.post(url, json={"amount": 1_000_000_00}, headers=headers) for _ in range(10))
    )
    assert {response.status_code for response in responses} == {200}
    assert len({response.json()["transaction_id"] for response in responses}) == 1
    assert await programs.remaining_budget(session, program) == 1_000_000_00
    funded = await session.scalar(
        select(func.count())
        .select_from(transaction)
        .where(transaction.c.client_id == f"program:{program.id}:fund:tranche-1")
    )
    assert funded == 1


async def test_racing_freeze_and_revoke_end_in_one_consistent_state(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    voucher = await create_voucher(session, amount=100_00)
    admin = await headers_for(app, session, Role.program_admin)
    url = f"/v1/admin/vouchers/{voucher.id}"
    body = {"reason": "race"}
    responses = await asyncio.gather(
        *(client.post(url + action, json=body, headers=admin) for action in ["/revoke"] * 5),
        *(client.post(url + action, json=body, headers=admin) for action in ["/freeze"] * 5),
    )
    codes = sorted(response.status_code for response in responses)
    revoked = [r for r in responses[:5] if r.status_code == 200]
    assert len(revoked) == 1 and codes.count(409) >= 8
    program = await programs.get_program(session, voucher.program_id)
    assert await programs.remaining_budget(session, program) == 100_00
    assert (await ledger.trial_balance(session)).balanced
