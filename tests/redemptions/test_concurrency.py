"""Acceptance: real concurrent HTTP requests on PostgreSQL, and retries under one key."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tests.redemptions.factories import Seller, redeem, redemption_body, voucher_for
from voucher_service.db import Database
from voucher_service.vouchers import service as vouchers
from voucher_service.vouchers.models import Voucher


async def ledger_transactions(database: Database, client_id_like: str) -> int:
    async with database.unit_of_work(readonly=True) as session:
        found = await session.scalar(
            sa.text(
                "SELECT count(*) FROM ledger_transaction WHERE client_id LIKE :pattern "
                "AND status = 'committed'"
            ),
            {"pattern": client_id_like},
        )
        return int(found or 0)


@pytest.mark.postgres_only
@pytest.mark.parametrize("capture", [True, False])
async def test_fifty_concurrent_redemptions_against_a_voucher_covering_ten(
    client: httpx.AsyncClient,
    seller: Seller,
    session: AsyncSession,
    database: Database,
    capture: bool,
) -> None:
    # Each bill of 2,000 fen at 50% takes 1,000: the 10,000 fen voucher covers exactly ten.
    voucher = await voucher_for(session, seller, amount=10_000, rate_bp=5000)
    answers = await asyncio.gather(
        *(redeem(client, seller, voucher, bill_amount=2_000, capture=capture) for _ in range(50))
    )
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses.count(201) == 10, [a.text for a in answers if a.status_code != 201][:3]
    refused = [answer.json()["code"] for answer in answers if answer.status_code != 201]
    assert set(refused) <= {"insufficient_balance", "voucher_exhausted"}
    assert len(refused) == 40
    balances = [answer.json()["voucher_balance"] for answer in answers if answer.is_success]
    assert min(balances) == 0
    assert all(balance >= 0 for balance in balances)
    async with database.unit_of_work(readonly=True) as check:
        balance = await vouchers.balance_of(check, voucher)
    assert balance.available == 0
    assert balance.on_hold == (0 if capture else 10_000)
    assert await ledger_transactions(database, "redemption:%") == 10


@pytest.mark.postgres_only
async def test_twenty_concurrent_retries_of_one_request_move_money_once(
    client: httpx.AsyncClient, seller: Seller, voucher: Voucher, database: Database
) -> None:
    body = redemption_body(voucher)
    headers = seller.keyed(str(uuid.uuid4()))
    answers = await asyncio.gather(
        *(client.post("/v1/provider/redemptions", json=body, headers=headers) for _ in range(20))
    )
    assert {answer.status_code for answer in answers} == {201}
    assert len({answer.text for answer in answers}) == 1
    assert sum(answer.headers.get("idempotent-replayed") == "true" for answer in answers) == 19
    assert await ledger_transactions(database, "redemption:%") == 1
    async with database.unit_of_work(readonly=True) as check:
        assert (await vouchers.balance_of(check, voucher)).available == 10_000_00 - 60_000


async def test_retries_replay_and_a_changed_request_is_refused(
    client: httpx.AsyncClient, seller: Seller, voucher: Voucher, database: Database
) -> None:
    body = redemption_body(voucher)
    headers = seller.keyed()
    first = await client.post("/v1/provider/redemptions", json=body, headers=headers)
    again = await client.post("/v1/provider/redemptions", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["idempotent-replayed"] == "true"
    changed = await client.post(
        "/v1/provider/redemptions", json={**body, "bill_amount": 1_000}, headers=headers
    )
    assert changed.status_code == 422
    assert changed.json()["code"] == "idempotency_key_reused"
    # Capture, void and refund answer retries the same way.
    held = (await redeem(client, seller, voucher, capture=False)).json()
    capture_key = seller.keyed()
    path = f"/v1/provider/redemptions/{held['id']}/capture"
    captured = await client.post(path, json={"amount": 100}, headers=capture_key)
    replayed = await client.post(path, json={"amount": 100}, headers=capture_key)
    assert captured.json() == replayed.json()
    assert replayed.headers["idempotent-replayed"] == "true"
    assert await ledger_transactions(database, f"redemption:{held['id']}:capture") == 1


async def test_a_refusal_is_answered_again_even_after_the_balance_changes(
    client: httpx.AsyncClient, seller: Seller, session: AsyncSession
) -> None:
    small = await voucher_for(session, seller, amount=1_000, rate_bp=5000)
    headers = seller.keyed()
    body = redemption_body(small, bill_amount=4_000)  # needs 2,000
    first = await client.post("/v1/provider/redemptions", json=body, headers=headers)
    assert first.json()["code"] == "insufficient_balance"
    replay = await client.post("/v1/provider/redemptions", json=body, headers=headers)
    assert replay.json() == first.json()
    assert replay.headers["idempotent-replayed"] == "true"
    # A new key is a new request: it is evaluated afresh (and covers part when allowed).
    partial = await redeem(client, seller, small, bill_amount=4_000, allow_partial=True)
    assert partial.status_code == 201
