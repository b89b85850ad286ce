"""Redeeming through the provider API: capture at once, authorise then capture or void."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

import ledger
from providers.webhooks.models import WebhookEvent
from tests.factories import audit_events
from tests.redemptions.factories import Seller, redeem, voucher_for
from voucher_service.db import Database
from voucher_service.vouchers import service as vouchers
from voucher_service.vouchers.models import Voucher, VoucherState


async def balance(database: Database, voucher: Voucher) -> vouchers.Balance:
    async with database.unit_of_work(readonly=True) as session:
        return await vouchers.balance_of(session, voucher)


async def events(database: Database, event_type: str) -> list[WebhookEvent]:
    async with database.unit_of_work(readonly=True) as session:
        rows = await session.scalars(
            select(WebhookEvent).where(col(WebhookEvent.event_type) == event_type)
        )
        return list(rows)


async def test_capture_at_once_covers_the_rate_and_rounds_down(
    client: httpx.AsyncClient, seller: Seller, voucher: Voucher, database: Database
) -> None:
    response = await redeem(client, seller, voucher, bill_amount=123_457)
    assert response.status_code == 201, response.text
    body = response.json()
    covered = 123_457 * 3000 // 10_000  # 37037.1 → 37037
    assert body["status"] == "captured"
    assert body["covered_amount"] == covered == 37_037
    assert body["captured_amount"] == covered
    assert body["enterprise_payable"] == 123_457 - covered
    assert body["voucher_balance"] == 10_000_00 - covered
    assert body["voucher_code"] == voucher.code
    assert body["expires_at"] is None
    assert body["receipt"].count(".") == 2
    assert (await balance(database, voucher)).available == 10_000_00 - covered
    assert [e.target_id for e in await audit_events(database, "redemption.captured")] == [
        body["id"]
    ]
    assert len(await events(database, "redemption.captured")) == 1


async def test_authorise_then_capture_part_releases_the_rest(
    client: httpx.AsyncClient, seller: Seller, voucher: Voucher, database: Database
) -> None:
    held = await redeem(client, seller, voucher, capture=False, bill_amount=100_000)
    assert held.status_code == 201, held.text
    body = held.json()
    assert body["status"] == "authorized"
    assert body["covered_amount"] == 30_000
    assert body["captured_amount"] == 0
    assert body["expires_at"] is not None
    assert body["voucher_balance"] == 10_000_00 - 30_000
    assert (await balance(database, voucher)).on_hold == 30_000
    assert await events(database, "redemption.captured") == []
    captured = await client.post(
        f"/v1/provider/redemptions/{body['id']}/capture",
        json={"amount": 20_000},
        headers=seller.keyed(),
    )
    assert captured.status_code == 200, captured.text
    after = captured.json()
    assert after["status"] == "captured"
    assert after["captured_amount"] == 20_000
    assert after["enterprise_payable"] == 80_000
    assert after["voucher_balance"] == 10_000_00 - 20_000
    assert after["expires_at"] is None
    now = await balance(database, voucher)
    assert (now.available, now.on_hold) == (10_000_00 - 20_000, 0)
    assert len(await events(database, "redemption.captured")) == 1


async def test_capture_without_amount_takes_the_whole_authorisation(
    client: httpx.AsyncClient, seller: Seller, voucher: Voucher
) -> None:
    held = (await redeem(client, seller, voucher, capture=False)).json()
    captured = await client.post(
        f"/v1/provider/redemptions/{held['id']}/capture", headers=seller.keyed()
    )
    assert captured.status_code == 200, captured.text
    assert captured.json()["captured_amount"] == held["covered_amount"] == 60_000


async def test_void_releases_everything(
    client: httpx.AsyncClient, seller: Seller, voucher: Voucher, database: Database
) -> None:
    held = (await redeem(client, seller, voucher, capture=False)).json()
    voided = await client.post(
        f"/v1/provider/redemptions/{held['id']}/void", headers=seller.keyed()
    )
    assert voided.status_code == 200, voided.text
    assert voided.json()["status"] == "voided"
    assert voided.json()["enterprise_payable"] == 200_000
    now = await balance(database, voucher)
    assert (now.available, now.on_hold) == (10_000_00, 0)
    assert len(await events(database, "redemption.voided")) == 1
    assert len(await audit_events(database, "redemption.voided")) == 1


async def test_partial_cover_when_allowed_and_the_voucher_becomes_exhausted(
    client: httpx.AsyncClient, seller: Seller, session: AsyncSession, database: Database
) -> None:
    small = await voucher_for(session, seller, amount=1_000, rate_bp=5000)
    refused = await redeem(client, seller, small, bill_amount=10_000)
    assert refused.status_code == 422
    assert refused.json()["code"] == "insufficient_balance"
    assert refused.json()["available_amount"] == 1_000
    partial = await redeem(client, seller, small, bill_amount=10_000, allow_partial=True)
    assert partial.status_code == 201, partial.text
    assert partial.json()["covered_amount"] == 1_000
    assert partial.json()["enterprise_payable"] == 9_000
    assert partial.json()["voucher_balance"] == 0
    async with database.unit_of_work(readonly=True) as check:
        found = await vouchers.get_voucher(check, small.id)
        assert found is not None
        assert found.state == VoucherState.exhausted
    again = await redeem(client, seller, small, allow_partial=True)
    assert again.status_code == 422
    assert again.json()["code"] == "voucher_exhausted"


async def test_receipt_is_a_signed_ledger_transaction(
    client: httpx.AsyncClient, seller: Seller, voucher: Voucher, app: FastAPI
) -> None:
    body = (await redeem(client, seller, voucher)).json()
    content = ledger.read_receipt(app.state.keyring, body["receipt"])
    legs = content["transaction"]["legs"]
    assert {leg["account_code"] for leg in legs} == {
        f"voucher:{voucher.id}",
        f"provider:{seller.organisation.id}:payable",
    }
    assert all(leg["amount"] == body["covered_amount"] for leg in legs)
