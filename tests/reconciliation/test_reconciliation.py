"""Reconciliation: a statement with planted differences reports exactly those; a bad statement
is rejected whole, every bad line named; both sides read the report; exports."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

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
from voucher_service.users.models import Role

TODAY = utcnow().astimezone(SHANGHAI).date()
PERIOD = {"period_start_on": str(TODAY - timedelta(days=3)), "period_end_on": str(TODAY)}
NOW = utcnow().isoformat()


async def payee_headers(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, seller: Seller
) -> dict[str, str]:
    issued = await create_provider_client(
        app,
        session,
        organisation=seller.organisation,
        scopes=["settlements:read", "settlements:write"],
    )
    return bearer(await client_token(client, issued))


async def orders(
    client: httpx.AsyncClient, seller: Seller, session: AsyncSession, count: int
) -> list[str]:
    voucher = await voucher_for(session, seller, amount=100_000_00)
    made = []
    for _ in range(count):
        response = await redeem(client, seller, voucher)
        assert response.status_code == 201, response.text
        made.append(response.json()["order_id"])
    return made


async def test_planted_differences_are_reported_exactly(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    seller = await create_seller(app, client, session)
    headers = await payee_headers(app, client, session, seller)
    ours = await orders(client, seller, session, 5)  # each covers 1,000.00 CNY
    lines = ["order_id,amount,occurred_at"]
    lines += [f"{order},100000,{NOW}" for order in ours[:3]]  # matched
    lines.append(f"{ours[3]},99999,{NOW}")  # amount mismatch; ours[4] missing on theirs
    lines.append(f"非我方-1,500,{NOW}")  # missing on ours
    body = ("\n".join(lines) + "\n").encode("gbk")
    response = await client.post(
        "/v1/provider/statements", params=PERIOD, content=body, headers=headers
    )
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["status"] == "discrepancies" and report["encoding"] == "gbk"
    assert (report["matched_count"], report["matched_amount"]) == (3, 300_000)
    assert (report["missing_ours_count"], report["missing_ours_amount"]) == (1, 500)
    assert (report["missing_theirs_count"], report["missing_theirs_amount"]) == (1, 100_000)
    assert (report["mismatch_count"], report["mismatch_their_amount"]) == (1, 99_999)
    assert report["mismatch_our_amount"] == 100_000
    url = f"/v1/provider/reconciliations/{report['id']}"
    differences = (await client.get(f"{url}/differences", headers=headers)).json()["items"]
    assert sorted((d["order_id"], d["kind"]) for d in differences) == sorted(
        [
            (ours[3], "amount_mismatch"),
            (ours[4], "missing_theirs"),
            ("非我方-1", "missing_ours"),
        ]
    )
    finance = await auth_headers(app, session, await create_user(session, role=Role.finance))
    admin = f"/v1/admin/reconciliations/{report['id']}"
    assert (await client.get(admin, headers=finance)).json()["id"] == report["id"]
    exported = await client.get(f"{admin}/export", params={"lang": "en"}, headers=finance)
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert {row["Order id"]: row["Their amount (CNY)"] for row in rows}["非我方-1"] == "5.00"
    other = await create_seller(app, client, session)
    stranger = await payee_headers(app, client, session, other)
    assert (await client.get(url, headers=stranger)).status_code == 404


async def test_a_bad_statement_is_rejected_whole_with_every_bad_line(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    seller = await create_seller(app, client, session)
    headers = await payee_headers(app, client, session, seller)
    ours = await orders(client, seller, session, 1)
    statement = "\n".join(
        [
            json.dumps({"order_id": ours[0], "amount": 100000, "occurred_at": NOW}),
            json.dumps({"order_id": "A", "amount": -1, "occurred_at": NOW}),
            "not json",
            json.dumps({"order_id": ours[0], "amount": 5, "occurred_at": NOW}),
        ]
    )
    response = await client.post(
        "/v1/provider/statements", params=PERIOD, content=statement.encode(), headers=headers
    )
    report = response.json()
    assert report["status"] == "rejected" and report["error_count"] == 3
    errors = await client.get(
        f"/v1/provider/reconciliations/{report['id']}/errors", headers=headers
    )
    assert [(e["line_no"], e["code"]) for e in errors.json()["items"]] == [
        (2, "amount_not_positive"),
        (3, "line_malformed"),
        (4, "order_id_duplicate"),
    ]
    differences = await client.get(
        f"/v1/provider/reconciliations/{report['id']}/differences", headers=headers
    )
    assert differences.json()["items"] == []  # nothing was matched


async def test_encodings_other_than_utf8_and_gbk_are_refused(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    seller = await create_seller(app, client, session)
    headers = await payee_headers(app, client, session, seller)
    files = {"file": ("s.csv", "order_id,amount,occurred_at\n".encode("utf-16"), "text/csv")}
    response = await client.post(
        "/v1/provider/statements", params=PERIOD, files=files, headers=headers
    )
    assert response.status_code == 422
    assert response.json()["code"] == "statement_encoding_unsupported"
