"""Settlement items name what they pay for: the redemption and the provider's own order id, so
a provider can match a settlement to its books (the API, the export and the portal)."""

from __future__ import annotations

import csv
import io
import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import auth_headers, create_user
from tests.portal.helpers import sign_in
from tests.redemptions.factories import create_seller, redeem, voucher_for
from tests.settlements.api import generate
from voucher_service.users.models import Role


async def test_items_carry_the_order_id_of_captures_and_refunds(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    seller = await create_seller(app, client, session)
    voucher = await voucher_for(session, seller, amount=10_000_00, rate_bp=5000)
    at_once = (await redeem(client, seller, voucher, order_id="ORD-AT-ONCE")).json()
    held = (await redeem(client, seller, voucher, order_id="ORD-HELD", capture=False)).json()
    captured = await client.post(
        f"/v1/provider/redemptions/{held['id']}/capture", headers=seller.keyed()
    )
    assert captured.status_code == 200, captured.text
    refunded = await client.post(
        f"/v1/provider/redemptions/{at_once['id']}/refunds",
        json={"amount": 100_00, "reason": "job cancelled"},
        headers=seller.keyed(),
    )
    assert refunded.status_code == 201, refunded.text

    officer = await create_user(session, role=Role.finance)
    finance = await auth_headers(app, session, officer)
    [settlement] = await generate(client, finance, voucher)
    url = f"/v1/admin/settlements/{settlement['id']}"
    items = (await client.get(f"{url}/items", headers=finance)).json()["items"]
    seen = sorted((i["kind"], i["order_id"], i["redemption_id"], i["amount"]) for i in items)
    assert seen == [
        ("redemption", "ORD-AT-ONCE", at_once["id"], at_once["covered_amount"]),
        ("redemption", "ORD-HELD", held["id"], held["covered_amount"]),
        ("refund", "ORD-AT-ONCE", at_once["id"], -100_00),
    ]
    assert all(i["claim_id"] is None for i in items)

    export = await client.get(f"{url}/export", params={"lang": "en"}, headers=finance)
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert sorted(row["Order id"] for row in rows) == ["ORD-AT-ONCE", "ORD-AT-ONCE", "ORD-HELD"]
    assert {uuid.UUID(row["Redemption id"]) for row in rows} == {
        uuid.UUID(at_once["id"]),
        uuid.UUID(held["id"]),
    }

    browser = await sign_in(app, client, session, officer)
    page = await browser.get(f"/portal/authority/settlements/{settlement['id']}")
    assert page.status_code == 200
    assert "ORD-AT-ONCE" in page.text and "ORD-HELD" in page.text and "订单或申领" in page.text
