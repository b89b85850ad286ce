"""Refunds, expiry, reads, the holder's view, receipts checked with an independent JOSE library."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from joserfc import jws
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

import ledger
from providers.webhooks.models import WebhookEvent
from tests.factories import auth_headers, create_user
from tests.redemptions.factories import Seller, create_seller, redeem, voucher_for
from voucher_service.db import Database
from voucher_service.organisations.models import Organisation
from voucher_service.programs.models import Program
from voucher_service.redemptions import hooks, transitions
from voucher_service.redemptions.models import Redemption
from voucher_service.users.models import Role
from voucher_service.vouchers import service as vouchers
from voucher_service.vouchers.models import Voucher, VoucherState


async def refund(
    client: httpx.AsyncClient, seller: Seller, redemption_id: str, amount: int
) -> httpx.Response:
    return await client.post(
        f"/v1/provider/redemptions/{redemption_id}/refunds",
        json={"amount": amount, "reason": "customer cancelled part of the job"},
        headers=seller.keyed(),
    )


async def available(database: Database, voucher: Voucher) -> int:
    async with database.unit_of_work(readonly=True) as session:
        return (await vouchers.balance_of(session, voucher)).available


async def test_several_partial_refunds_up_to_the_captured_amount(
    client: httpx.AsyncClient, seller: Seller, voucher: Voucher, database: Database
) -> None:
    captured = (await redeem(client, seller, voucher)).json()  # covers 60,000
    first = await refund(client, seller, captured["id"], 10_000)
    assert first.status_code == 201, first.text
    assert first.json()["refund"]["amount"] == 10_000
    assert first.json()["redemption"]["refunded_amount"] == 10_000
    assert first.json()["redemption"]["voucher_balance"] == 10_000_00 - 50_000
    second = await refund(client, seller, captured["id"], 50_000)
    assert second.status_code == 201, second.text
    assert len(second.json()["redemption"]["refunds"]) == 2
    assert await available(database, voucher) == 10_000_00
    over = await refund(client, seller, captured["id"], 1)
    assert over.status_code == 422
    assert over.json()["code"] == "refund_exceeds_captured"
    async with database.unit_of_work(readonly=True) as session:
        types = list(
            await session.scalars(
                select(WebhookEvent.event_type).where(
                    col(WebhookEvent.event_type) == "redemption.refunded"
                )
            )
        )
    assert len(types) == 2


async def test_a_refund_makes_an_exhausted_voucher_active_again(
    client: httpx.AsyncClient, seller: Seller, session: AsyncSession, database: Database
) -> None:
    small = await voucher_for(session, seller, amount=1_000, rate_bp=5000)
    captured = (await redeem(client, seller, small, bill_amount=2_000)).json()
    assert captured["voucher_balance"] == 0
    assert (await refund(client, seller, captured["id"], 400)).status_code == 201
    async with database.unit_of_work(readonly=True) as check:
        found = await vouchers.get_voucher(check, small.id)
        assert found is not None
        assert found.state == VoucherState.active
    assert await available(database, small) == 400


async def test_a_refund_after_the_settlement_is_paid_is_owed_by_the_provider(
    app: FastAPI, client: httpx.AsyncClient, seller: Seller, voucher: Voucher, database: Database
) -> None:
    """Once paid out, a refund is taken from the provider's receivable (clawed back from its
    next settlement by the settlements domain) instead of its payable."""
    captured = (await redeem(client, seller, voucher)).json()

    async def paid(_session: AsyncSession, redemption: Redemption) -> bool:
        return str(redemption.id) == captured["id"]

    hooks.register_settled_paid_check(paid)
    try:
        response = await refund(client, seller, captured["id"], 100)
    finally:
        hooks._checks.remove(paid)
    assert response.status_code == 201, response.text
    content = ledger.read_receipt(app.state.keyring, response.json()["redemption"]["receipt"])
    codes = {leg["side"]: leg["account_code"] for leg in content["transaction"]["legs"]}
    assert codes == {
        "debit": f"provider:{seller.organisation.id}:receivable",
        "credit": f"voucher:{voucher.id}",
    }
    assert await available(database, voucher) == 10_000_00 - 60_000 + 100


async def test_an_authorisation_expires_after_the_programme_hold_timeout(
    client: httpx.AsyncClient, seller: Seller, session: AsyncSession, database: Database
) -> None:
    voucher = await voucher_for(session, seller, amount=100_000, rate_bp=5000)
    await session.execute(
        sa.update(Program)
        .where(col(Program.id) == voucher.program_id)
        .values(hold_timeout_seconds=1)
    )
    await session.commit()
    held = (await redeem(client, seller, voucher, capture=False, bill_amount=20_000)).json()
    assert await available(database, voucher) == 90_000
    await asyncio.sleep(1.2)
    late = await client.post(
        f"/v1/provider/redemptions/{held['id']}/capture", headers=seller.keyed()
    )
    assert late.status_code == 409
    assert late.json()["code"] == "hold_expired"
    async with database.unit_of_work() as work:
        assert await transitions.expire_due(work, limit=10) == 1
    async with database.unit_of_work() as work:
        assert await transitions.expire_due(work, limit=10) == 0
    read = (
        await client.get(f"/v1/provider/redemptions/{held['id']}", headers=seller.headers)
    ).json()
    assert read["status"] == "expired"
    assert read["enterprise_payable"] == 20_000
    assert await available(database, voucher) == 100_000
    again = await client.post(
        f"/v1/provider/redemptions/{held['id']}/capture", headers=seller.keyed()
    )
    assert again.status_code == 409
    assert again.json()["code"] == "hold_expired"
    async with database.unit_of_work(readonly=True) as check:
        expired = await check.scalar(
            select(sa.func.count()).where(col(WebhookEvent.event_type) == "redemption.expired")
        )
    assert expired == 1


async def test_voucher_lookup_list_and_get(
    client: httpx.AsyncClient, seller: Seller, voucher: Voucher
) -> None:
    looked = await client.get(
        f"/v1/provider/vouchers/{voucher.code.lower()}", headers=seller.headers
    )
    assert looked.status_code == 200, looked.text
    assert looked.json() == {
        "code": voucher.code,
        "status": "active",
        "kind": "compute",
        "balance": 10_000_00,
        "currency": "CNY",
        "rate_bp": 3000,
        "valid_until": looked.json()["valid_until"],
    }
    made = [(await redeem(client, seller, voucher, order_id=f"O-{n}")).json() for n in range(3)]
    listed = await client.get("/v1/provider/redemptions?limit=2", headers=seller.headers)
    assert [item["id"] for item in listed.json()["items"]] == [made[2]["id"], made[1]["id"]]
    rest = await client.get(
        "/v1/provider/redemptions",
        params={"cursor": listed.json()["next_cursor"]},
        headers=seller.headers,
    )
    assert [item["id"] for item in rest.json()["items"]] == [made[0]["id"]]
    by_order = await client.get("/v1/provider/redemptions?order_id=O-1", headers=seller.headers)
    assert [item["id"] for item in by_order.json()["items"]] == [made[1]["id"]]
    one = await client.get(f"/v1/provider/redemptions/{made[0]['id']}", headers=seller.headers)
    assert one.status_code == 200
    assert one.json()["order_id"] == "O-0"
    assert one.json()["receipt"].count(".") == 2


async def test_another_providers_redemption_is_not_found(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    seller: Seller,
    voucher: Voucher,
) -> None:
    other = await create_seller(app, client, session)
    held = (await redeem(client, seller, voucher, capture=False)).json()
    path = f"/v1/provider/redemptions/{held['id']}"
    missing = "/v1/provider/redemptions/01930000-0000-7000-8000-000000000000"
    for method, suffix, body in (
        ("GET", "", None),
        ("POST", "/capture", None),
        ("POST", "/void", None),
        ("POST", "/refunds", {"amount": 1, "reason": "x"}),
    ):
        theirs = await client.request(method, path + suffix, json=body, headers=other.keyed())
        nothing = await client.request(method, missing + suffix, json=body, headers=other.keyed())
        assert theirs.status_code == nothing.status_code == 404
        assert theirs.json()["code"] == nothing.json()["code"]
    assert (await client.get("/v1/provider/redemptions", headers=other.headers)).json()[
        "items"
    ] == []
    assert (
        await client.get(f"/v1/provider/vouchers/{voucher.code}", headers=other.headers)
    ).status_code == 404


async def test_the_holder_sees_each_redemption_in_the_voucher_history(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    seller: Seller,
    voucher: Voucher,
) -> None:
    made = (await redeem(client, seller, voucher, bill_amount=100_000)).json()
    holder = await session.get(Organisation, voucher.holder_id)
    member = await create_user(session, organisation=holder, role=Role.member)
    headers = await auth_headers(app, session, member)
    history = await client.get(f"/v1/vouchers/{voucher.id}/redemptions", headers=headers)
    assert history.status_code == 200, history.text
    [item] = history.json()["items"]
    assert item["id"] == made["id"]
    assert item["provider_id"] == str(seller.organisation.id)
    assert item["provider_name"] == seller.organisation.name
    assert (item["bill_amount"], item["covered_amount"], item["enterprise_payable"]) == (
        100_000,
        30_000,
        70_000,
    )
    assert item["usage"]["resource"] == "gpu_hour"
    stranger = await auth_headers(app, session, await create_user(session, role=Role.owner))
    refused = await client.get(f"/v1/vouchers/{voucher.id}/redemptions", headers=stranger)
    assert refused.status_code == 404


async def test_receipts_verify_with_an_independent_jose_library(
    client: httpx.AsyncClient, seller: Seller, voucher: Voucher
) -> None:
    made = (await redeem(client, seller, voucher)).json()
    jwks = (await client.get("/.well-known/jwks.json")).json()
    keys = KeySet.import_key_set(jwks)
    verified = jws.deserialize_compact(made["receipt"], keys, algorithms=["ES256"])
    assert verified.protected["alg"] == "ES256"
    assert verified.protected["kid"] in {key["kid"] for key in jwks["keys"]}
    content: dict[str, Any] = json.loads(verified.payload)
    legs = content["transaction"]["legs"]
    assert {leg["amount"] for leg in legs} == {made["covered_amount"]}
    header, _payload, signature = made["receipt"].split(".")
    forged = json.dumps({**content, "issued_at": "2000-01-01T00:00:00Z"}).encode()
    tampered = ".".join((header, base64.urlsafe_b64encode(forged).decode().rstrip("="), signature))
    with pytest.raises(BadSignatureError):
        jws.deserialize_compact(tampered, keys, algorithms=["ES256"])
