"""Settlements told as an accounting story: captures and refunds, a settlement generated,
approved, confirmed and paid, then a refund after payout clawed back from the next one."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

import ledger
from tests.factories import auth_headers, create_user
from tests.programs.factories import create_provider
from tests.settlements.api import TODAY, generate, setup
from tests.settlements.factories import capture, refund
from voucher_service.db import Database
from voucher_service.programs import service as programs
from voucher_service.settlements import service
from voucher_service.users.models import Role
from voucher_service.vouchers.models import Voucher


async def settle(
    client: httpx.AsyncClient,
    finance: dict[str, str],
    operator: dict[str, str],
    voucher: Voucher,
    bank_reference: str,
) -> dict:
    [settlement] = await generate(client, finance, voucher)
    url = f"/v1/admin/settlements/{settlement['id']}"
    approved = await client.post(f"{url}/approve", headers=finance)
    assert approved.json()["status"] == "approved", approved.text
    mine = f"/v1/provider/settlements/{settlement['id']}"
    assert (await client.post(f"{mine}/confirm", headers=operator)).status_code == 200
    paid = await client.post(f"{url}/pay", json={"bank_reference": bank_reference}, headers=finance)
    assert paid.status_code == 200, paid.text
    return paid.json()


async def test_the_money_story_from_redemption_to_clawback(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    provider, voucher = await setup(session)
    finance = await auth_headers(app, session, await create_user(session, role=Role.finance))
    operator_user = await create_user(session, organisation=provider, role=Role.operator)
    operator = await auth_headers(app, session, operator_user)
    await capture(session, voucher, provider.id, 300_00)
    await capture(session, voucher, provider.id, 200_00)
    await refund(session, voucher, provider.id, 50_00, paid_out=False)

    first = await settle(client, finance, operator, voucher, "BANK-1")
    assert (first["status"], first["item_count"], first["net_amount"]) == ("paid", 3, 450_00)
    assert (first["gross_amount"], first["refunded_amount"]) == (500_00, 50_00)
    assert await generate(client, finance, voucher) == []  # nothing left to settle

    await refund(session, voucher, provider.id, 100_00, paid_out=True)
    await capture(session, voucher, provider.id, 300_00)
    second = await settle(client, finance, operator, voucher, "BANK-2")
    assert (second["net_amount"], second["clawback_amount"]) == (200_00, 100_00)

    assert (await ledger.trial_balance(session)).balanced
    codes = [f"provider:{provider.id}:payable", f"provider:{provider.id}:receivable"]
    accounts = await ledger.get_accounts(session, codes)
    for account in accounts.values():
        assert (await ledger.balance(session, account.id)).posted == 0
    program = await programs.get_program(session, voucher.program_id)
    figures = await programs.figures(session, program)
    assert figures.paid_out == 650_00 == figures.spent
    assert figures.committed == figures.returned + figures.spent + figures.outstanding


async def test_items_and_export(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    provider, voucher = await setup(session)
    finance = await auth_headers(app, session, await create_user(session, role=Role.finance))
    await capture(session, voucher, provider.id, 123_45)
    [settlement] = await generate(client, finance, voucher)
    url = f"/v1/admin/settlements/{settlement['id']}"
    items = (await client.get(f"{url}/items", headers=finance)).json()["items"]
    assert [(i["kind"], i["amount"]) for i in items] == [("redemption", 123_45)]
    export = await client.get(f"{url}/export", params={"lang": "en"}, headers=finance)
    # a transfer posted straight to the ledger: no redemption or claim behind it
    assert export.content.decode("utf-8-sig").splitlines()[1].endswith("redemption,123.45,,,")


async def test_finance_cancels_a_draft_and_the_next_generation_takes_its_items(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    provider, voucher = await setup(session)
    finance = await auth_headers(app, session, await create_user(session, role=Role.finance))
    await capture(session, voucher, provider.id, 123_45)
    [draft] = await generate(client, finance, voucher)
    url = f"/v1/admin/settlements/{draft['id']}/cancel"
    blank = await client.post(url, json={"comment": ""}, headers=finance)
    assert blank.status_code == 422
    cancelled = await client.post(url, json={"comment": "wrong period"}, headers=finance)
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert (body["status"], body["resolution_comment"]) == ("cancelled", "wrong period")
    assert body["net_amount"] == 123_45  # its figures are kept
    again = await client.post(url, json={"comment": "twice"}, headers=finance)
    assert (again.status_code, again.json()["code"]) == (409, "settlement_state_conflict")
    [next_one] = await generate(client, finance, voucher)  # the items were released
    assert (next_one["item_count"], next_one["net_amount"]) == (1, 123_45)
    approved = await client.post(f"/v1/admin/settlements/{next_one['id']}/approve", headers=finance)
    assert approved.json()["status"] == "approved"
    refused = await client.post(
        f"/v1/admin/settlements/{next_one['id']}/cancel", json={"comment": "x"}, headers=finance
    )
    assert refused.status_code == 409  # only a draft: an issued one is disputed and resolved


async def test_four_eyes_above_the_threshold(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    app.state.settings.settlement_four_eyes_amount = 100_00
    provider, voucher = await setup(session)
    first = await auth_headers(app, session, await create_user(session, role=Role.finance))
    second = await auth_headers(app, session, await create_user(session, role=Role.finance))
    await capture(session, voucher, provider.id, 500_00)
    [settlement] = await generate(client, first, voucher)
    url = f"/v1/admin/settlements/{settlement['id']}/approve"
    assert (await client.post(url, headers=first)).json()["status"] == "draft"
    again = await client.post(url, headers=first)
    assert again.status_code == 409 and again.json()["code"] == "four_eyes_required"
    assert (await client.post(url, headers=second)).json()["status"] == "approved"


async def test_no_payment_before_the_payee_answers_and_none_after_a_dispute(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    provider, voucher = await setup(session)
    finance = await auth_headers(app, session, await create_user(session, role=Role.finance))
    operator_user = await create_user(session, organisation=provider, role=Role.operator)
    operator = await auth_headers(app, session, operator_user)
    await capture(session, voucher, provider.id, 10_00)
    [settlement] = await generate(client, finance, voucher)
    url = f"/v1/admin/settlements/{settlement['id']}"
    mine = f"/v1/provider/settlements/{settlement['id']}"
    assert (await client.get(mine, headers=operator)).status_code == 404  # drafts are internal
    await client.post(f"{url}/approve", headers=finance)
    early = await client.post(f"{url}/pay", json={"bank_reference": "X"}, headers=finance)
    assert early.json()["code"] == "settlement_awaiting_response"
    disputed = await client.post(f"{mine}/dispute", json={"reason": "short"}, headers=operator)
    assert disputed.json()["status"] == "disputed"
    late = await client.post(f"{url}/pay", json={"bank_reference": "X"}, headers=finance)
    assert late.status_code == 409
    other = await create_provider(session)
    stranger = await create_user(session, organisation=other, role=Role.operator)
    assert (
        await client.get(mine, headers=await auth_headers(app, session, stranger))
    ).status_code == 404


@pytest.mark.postgres_only
async def test_two_generations_racing_never_share_an_item(
    session: AsyncSession, database: Database
) -> None:
    provider, voucher = await setup(session)
    for _ in range(30):
        await capture(session, voucher, provider.id, 1_00)
    program = await programs.get_program(session, voucher.program_id)
    period = (TODAY - timedelta(days=1), TODAY)

    async def one() -> int:
        try:
            async with database.unit_of_work() as work:
                made = await service.generate(work, program, period)
                return sum(s.item_count for s in made)
        except Exception:
            return 0

    counts = await asyncio.gather(*(one() for _ in range(4)))
    assert sum(counts) == 30


@pytest.mark.postgres_only
async def test_four_eyes_holds_when_two_finance_officers_approve_at_once(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    app.state.settings.settlement_four_eyes_amount = 100_00
    provider, voucher = await setup(session)
    officers = [
        await auth_headers(app, session, await create_user(session, role=Role.finance))
        for _ in range(2)
    ]
    for _ in range(5):  # each round: a new draft above the threshold, both officers at once
        await capture(session, voucher, provider.id, 200_00)
        [settlement] = await generate(client, officers[0], voucher)
        await session.commit()  # end the read before the racing requests
        url = f"/v1/admin/settlements/{settlement['id']}/approve"
        answers = []
        for _ in range(2):
            answers += await asyncio.gather(*(client.post(url, headers=h) for h in officers))
        assert {a.status_code for a in answers} <= {200, 409}, [a.text for a in answers]
        granted = sorted(a.json()["status"] for a in answers if a.status_code == 200)
        assert granted == ["approved", "draft"]  # one first approval, one second: no more
        final = await client.get(f"/v1/admin/settlements/{settlement['id']}", headers=officers[0])
        body = final.json()
        # Two rounds of both officers at once: the first approval goes to one of them only, and
        # the settlement is approved by the other, never by the same person twice.
        assert body["status"] == "approved", body
        assert body["first_approved_by_id"] is not None
        assert body["approved_by_id"] not in (None, body["first_approved_by_id"])
