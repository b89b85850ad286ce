"""Acceptance, end to end through the provider API: redemptions → refund → settlement generated,
approved, confirmed by the provider, paid → a refund after payout is clawed back from the next
settlement; the trial balance is zero and every programme figure adds up."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

import ledger
from tests.factories import (
    auth_headers,
    bearer,
    client_token,
    create_provider_client,
    create_user,
)
from tests.redemptions.factories import Seller, create_seller, redeem, voucher_for
from voucher_service.exports.columns import SHANGHAI
from voucher_service.kit.models import utcnow
from voucher_service.programs import service as programs
from voucher_service.users.models import Role
from voucher_service.vouchers.models import Voucher


async def redeemed(client: httpx.AsyncClient, seller: Seller, voucher: Voucher) -> str:
    response = await redeem(client, seller, voucher)  # a 2,000.00 bill, 50 % covered
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def refunded(client: httpx.AsyncClient, seller: Seller, redemption: str, amount: int) -> None:
    response = await client.post(
        f"/v1/provider/redemptions/{redemption}/refunds",
        json={"amount": amount, "reason": "service credit"},
        headers=seller.keyed(),
    )
    assert response.status_code in (200, 201), response.text


async def settle(
    client: httpx.AsyncClient, finance: dict[str, str], payee: dict[str, str], voucher: Voucher
) -> dict:
    today = utcnow().astimezone(SHANGHAI).date()
    body = {
        "program_id": str(voucher.program_id),
        "period_start_on": str(today - timedelta(days=31)),
        "period_end_on": str(today),
    }
    made = await client.post("/v1/admin/settlements", json=body, headers=finance)
    [settlement] = made.json()
    admin = f"/v1/admin/settlements/{settlement['id']}"
    assert (await client.post(f"{admin}/approve", headers=finance)).status_code == 200
    listed = await client.get("/v1/provider/settlements", headers=payee)
    assert next(s["id"] for s in listed.json()["items"]) == settlement["id"]
    mine = f"/v1/provider/settlements/{settlement['id']}/confirm"
    assert (await client.post(mine, headers=payee)).status_code == 200
    paid = await client.post(f"{admin}/pay", json={"bank_reference": "B-1"}, headers=finance)
    assert paid.status_code == 200, paid.text
    return paid.json()


async def test_redemptions_to_payout_and_clawback(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    seller = await create_seller(app, client, session)
    voucher = await voucher_for(session, seller, amount=10_000_00)
    finance = await auth_headers(app, session, await create_user(session, role=Role.finance))
    scopes = ["settlements:read", "settlements:write"]
    issued = await create_provider_client(
        app, session, organisation=seller.organisation, scopes=scopes
    )
    payee = bearer(await client_token(client, issued))
    first_order = await redeemed(client, seller, voucher)
    second_order = await redeemed(client, seller, voucher)
    await refunded(client, seller, first_order, 100_00)

    first = await settle(client, finance, payee, voucher)
    assert (first["item_count"], first["gross_amount"], first["net_amount"]) == (
        3,
        2_000_00,
        1_900_00,
    )

    await refunded(client, seller, second_order, 300_00)  # after payout: owed back
    await redeemed(client, seller, voucher)
    second = await settle(client, finance, payee, voucher)
    assert (second["net_amount"], second["clawback_amount"]) == (700_00, 300_00)
    items = await client.get(f"/v1/provider/settlements/{second['id']}/items", headers=payee)
    assert sorted((i["kind"], i["amount"]) for i in items.json()["items"]) == [
        ("clawback", -300_00),
        ("redemption", 1_000_00),
    ]

    trial = await ledger.trial_balance(session)
    assert trial.balanced
    assert trial.total.debits_posted - trial.total.credits_posted == 0  # the trial balance is zero
    provider = seller.organisation.id
    codes = [f"provider:{provider}:payable", f"provider:{provider}:receivable"]
    for account in (await ledger.get_accounts(session, codes)).values():
        assert (await ledger.balance(session, account.id)).posted == 0
    program = await programs.get_program(session, voucher.program_id)
    figures = await programs.figures(session, program)
    # Three 1,000.00 redemptions, 400.00 refunded: 2,600.00 spent, all of it paid out.
    assert figures.spent == figures.paid_out == 2_600_00
    assert (figures.committed, figures.returned, figures.on_hold) == (10_000_00, 0, 0)
    assert figures.outstanding == 10_000_00 - 2_600_00
    assert figures.committed == figures.returned + figures.spent + figures.outstanding
    assert figures.available == figures.budget - figures.committed + figures.returned
