"""Final approvals racing for the last of a budget (PostgreSQL, real concurrent requests)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, func, select

import ledger
from tests.applications.helpers import (
    authority_people,
    contract,
    decide,
    enterprise_user,
    submitted,
)
from tests.programs.factories import create_program, create_provider
from voucher_service.applications.models import Application
from voucher_service.programs import service as programs
from voucher_service.vouchers.models import Voucher

pytestmark = pytest.mark.postgres_only

AWARD = 6_000_000  # 30 % of a 200,000 CNY contract, in fen


async def test_twenty_final_approvals_for_a_budget_of_five(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    provider = await create_provider(session)
    program = await create_program(
        session,
        providers=[provider],
        budget=5 * AWARD + AWARD // 2,
        review_stages=[{"name": "publicity", "kind": "publicity", "days": 0}],
    )
    ids = []
    for _ in range(20):  # twenty enterprises, contracts signed the same day (no FIFO order)
        _enterprise, headers = await enterprise_user(app, session)
        ids.append((await submitted(client, headers, contract(provider, program)))["id"])
    reviewers = await authority_people(app, session, 4)

    responses = await asyncio.gather(
        *(decide(client, reviewers[index % 4], app_id) for index, app_id in enumerate(ids))
    )

    codes = Counter("issued" if r.status_code == 200 else r.json()["code"] for r in responses)
    assert codes == Counter({"issued": 5, "budget_exhausted": 15}), [r.text for r in responses]
    await session.commit()  # a fresh snapshot
    vouchers = (
        await session.scalars(select(Voucher).where(col(Voucher.program_id) == program.id))
    ).all()
    assert len(vouchers) == 5 and all(v.issued_amount == AWARD for v in vouchers)
    approved = await session.scalar(
        select(func.count())
        .select_from(Application)
        .where(col(Application.program_id) == program.id, col(Application.state) == "approved")
    )
    assert approved == 5
    issued_to = {v.application_id for v in vouchers}
    refused = [uuid.UUID(i) for i, r in zip(ids, responses, strict=True) if r.status_code != 200]
    assert issued_to.isdisjoint(refused)
    for application_id in refused:  # nothing half-issued
        row = await session.get(Application, application_id)
        assert row is not None and row.state == "publicity" and row.voucher_id is None
    assert await programs.remaining_budget(session, program) == AWARD // 2
    assert (await ledger.trial_balance(session)).balanced


async def test_two_final_approvals_of_one_application_issue_once(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    provider = await create_provider(session)
    program = await create_program(
        session,
        providers=[provider],
        budget=10 * AWARD,
        review_stages=[{"name": "publicity", "kind": "publicity", "days": 0}],
    )
    _enterprise, headers = await enterprise_user(app, session)
    app_id = (await submitted(client, headers, contract(provider, program)))["id"]
    reviewers = await authority_people(app, session, 6)

    responses = await asyncio.gather(*(decide(client, person, app_id) for person in reviewers))

    codes = Counter("issued" if r.status_code == 200 else r.json()["code"] for r in responses)
    assert codes == Counter({"issued": 1, "application_state_conflict": 5})
    await session.commit()
    issued = await session.scalar(
        select(func.count()).select_from(Voucher).where(col(Voucher.program_id) == program.id)
    )
    assert issued == 1
    assert await programs.remaining_budget(session, program) == 9 * AWARD
