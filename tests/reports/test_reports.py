"""Reports per programme (JSON, CSV, XLSX) and the open-data awards (no personal data)."""

from __future__ import annotations

import io

import httpx
from fastapi import FastAPI
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import auth_headers, create_user
from tests.redemptions.factories import create_seller, redeem, voucher_for
from voucher_service.exports.columns import SHANGHAI
from voucher_service.kit.models import utcnow
from voucher_service.users.models import Role

MONTH = utcnow().astimezone(SHANGHAI).strftime("%Y-%m")


async def test_programme_reports(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    seller = await create_seller(app, client, session)
    voucher = await voucher_for(session, seller, amount=10_000_00)
    for _ in range(2):
        assert (await redeem(client, seller, voucher)).status_code == 201
    headers = await auth_headers(app, session, await create_user(session, role=Role.auditor))
    base = f"/v1/admin/reports/programs/{voucher.program_id}"

    summary = (await client.get(f"{base}/summary", headers=headers)).json()
    assert summary["vouchers_by_state"]["active"] == {"count": 1, "issued_amount": 10_000_00}
    figures = summary["figures"]
    assert figures["spent"] == 2_000_00 and figures["budget"] == 10_000_00

    by_provider = (await client.get(f"{base}/redemptions", headers=headers)).json()["items"]
    assert [(r["month"], r["redemption_count"], r["captured_amount"]) for r in by_provider] == [
        (MONTH, 2, 2_000_00)
    ]
    exported = await client.get(
        f"{base}/redemptions", params={"format": "csv", "lang": "en"}, headers=headers
    )
    assert exported.content.decode("utf-8-sig").splitlines()[1].endswith(",2,2000.00,0.00")

    top = (await client.get(f"{base}/top-enterprises", headers=headers)).json()["items"]
    assert [t["awarded_amount"] for t in top] == [10_000_00]

    burn = await client.get(f"{base}/burn-down", params={"format": "xlsx"}, headers=headers)
    sheet = load_workbook(io.BytesIO(burn.content), read_only=True).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "月份" and rows[1][0] == MONTH
    assert float(rows[1][4]) == 8000.0  # budget not yet spent


async def test_open_data_awards_carry_no_personal_data(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    seller = await create_seller(app, client, session)
    voucher = await voucher_for(session, seller, amount=3_000_00)
    response = await client.get(
        "/v1/open-data/awards", params={"program_id": str(voucher.program_id)}
    )
    [award] = response.json()["items"]
    assert set(award) == {
        "program_name",
        "fiscal_year",
        "enterprise_name",
        "credit_code",
        "awarded_amount",
        "awarded_at",
    }
    assert award["awarded_amount"] == 3_000_00
    csv_export = await client.get(
        "/v1/open-data/awards", params={"program_id": str(voucher.program_id), "format": "csv"}
    )
    assert "统一社会信用代码" in csv_export.content.decode("utf-8-sig")


async def test_every_redemption_is_listed_once_in_csv_and_xlsx(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    seller = await create_seller(app, client, session)
    voucher = await voucher_for(session, seller, amount=10_000_00)
    captured = await redeem(client, seller, voucher, order_id="ORD-CAPTURED")
    held = await redeem(client, seller, voucher, order_id="ORD-HELD", capture=False)
    assert (captured.status_code, held.status_code) == (201, 201)
    headers = await auth_headers(app, session, await create_user(session, role=Role.finance))
    url = f"/v1/admin/reports/programs/{voucher.program_id}/redemption-list"

    csv = await client.get(url, params={"lang": "en"}, headers=headers)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Redemption id,Order id,Provider,Voucher code,Status,Bill (CNY)")
    rows = {line.split(",")[1]: line.split(",") for line in lines[1:]}
    assert set(rows) == {"ORD-CAPTURED", "ORD-HELD"}
    assert rows["ORD-CAPTURED"][0] == captured.json()["id"]
    assert rows["ORD-CAPTURED"][3:9] == [
        voucher.code,
        "captured",
        "2000.00",
        "1000.00",
        "1000.00",
        "0.00",
    ]
    assert rows["ORD-HELD"][4:8] == ["authorized", "2000.00", "1000.00", "0.00"]

    xlsx = await client.get(url, params={"format": "xlsx"}, headers=headers)
    sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True).active
    assert sheet is not None
    table = list(sheet.iter_rows(values_only=True))
    assert table[0][:2] == ("核销编号", "订单号") and len(table) == 3

    later = utcnow().astimezone(SHANGHAI).date().replace(year=utcnow().year + 1)
    none = await client.get(url, params={"since_on": str(later)}, headers=headers)
    assert len(none.content.decode("utf-8-sig").splitlines()) == 1  # the header only
    refused = await client.get(url, params={"format": "json"}, headers=headers)
    assert refused.status_code == 422
