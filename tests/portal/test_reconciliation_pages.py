"""Statements in the portal: a provider uploads its own statement (GBK or UTF-8, CSV or JSON
lines) and reads the reconciliation report; bad lines are named by number; the authority reads
every provider's reports; the ledger health page; the enterprise's expiry notice."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, func, select

from ledger.sqltypes import utcnow
from tests.factories import create_organisation, create_user
from tests.portal.helpers import Browser, post_file, sign_in
from tests.programs.factories import create_voucher
from tests.reconciliation.test_reconciliation import orders
from tests.redemptions.factories import Seller, create_seller
from voucher_service.audit.models import AuditEvent
from voucher_service.exports.columns import SHANGHAI
from voucher_service.ledger_admin.models import LedgerVerifyRun
from voucher_service.notices.jobs import warn
from voucher_service.organisations.models import OrganisationKind
from voucher_service.reconciliation.models import Reconciliation
from voucher_service.users.models import Role

TODAY = utcnow().astimezone(SHANGHAI).date()
PERIOD = {"period_start_on": str(TODAY - timedelta(days=3)), "period_end_on": str(TODAY)}
NOW = utcnow().isoformat()


async def operator_of(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> tuple[Seller, Browser, list[str]]:
    """A provider with four captured redemptions (1,000.00 CNY each) and its operator."""
    seller = await create_seller(app, client, session)
    made = await orders(client, seller, session, 4)
    operator = await create_user(session, organisation=seller.organisation, role=Role.operator)
    return seller, await sign_in(app, client, session, operator), made


async def upload(browser: Browser, body: bytes, name: str = "statement.csv") -> httpx.Response:
    return await post_file(
        browser, "/portal/provider/statements", PERIOD, {"file": (name, body, "text/csv")}
    )


async def reports(session: AsyncSession) -> int:
    count = await session.scalar(select(func.count()).select_from(Reconciliation))
    await session.commit()
    return int(count or 0)


async def test_a_gbk_statement_is_reconciled_and_its_differences_shown_and_exported(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _seller, browser, ours = await operator_of(app, client, session)
    lines = ["order_id,amount,occurred_at"]
    lines += [f"{order},100000,{NOW}" for order in ours[:2]]  # matched
    lines.append(f"{ours[2]},99999,{NOW}")  # amounts differ; ours[3] not on the statement
    lines.append(f"非我方-1,500,{NOW}")  # not in our records
    response = await upload(browser, ("\n".join(lines) + "\n").encode("gbk"))
    assert response.status_code == 303, response.text
    report_url = response.headers["location"]
    assert report_url.startswith("/portal/provider/reconciliations/")
    page = await browser.get(report_url)
    assert "对账单与对账" not in page.text and "存在差异" in page.text
    assert "gbk" in page.text and "非我方-1" in page.text
    for figure in ("2,000.00", "999.99", "1,000.00", "5.00"):  # matched, theirs, ours, missing
        assert figure in page.text, figure
    assert page.text.count('<td class="mono small-print">') == 3  # three differences
    export = await browser.get(f"{report_url}/export")
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(export.text.lstrip("\ufeff"))))
    assert rows[0][0] == "订单号" and len(rows) == 4
    assert {row[0] for row in rows[1:]} == {ours[2], ours[3], "非我方-1"}
    listing = await browser.get("/portal/provider/statements")
    assert report_url in listing.text


async def test_bad_lines_are_listed_by_number_and_nothing_is_matched(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _seller, browser, ours = await operator_of(app, client, session)
    lines = [
        json.dumps({"order_id": ours[0], "amount": 100000, "occurred_at": NOW}),
        json.dumps({"order_id": ours[1], "amount": "十元", "occurred_at": NOW}),
        json.dumps({"order_id": ours[2], "amount": 100000, "occurred_at": "2001-01-01T00:00"}),
        json.dumps({"order_id": ours[0], "amount": 100000, "occurred_at": NOW}),
    ]
    response = await upload(browser, "\n".join(lines).encode(), "statement.jsonl")
    assert response.status_code == 303
    page = await browser.get(response.headers["location"])
    assert "已拒收" in page.text
    for line_no, code in (
        (2, "amount_not_integer"),
        (3, "occurred_at_outside_period"),
        (4, "order_id_duplicate"),
    ):
        assert f'<td class="num">{line_no}</td><td><code>{code}</code>' in page.text
    assert "/export" not in page.text  # nothing was matched, so nothing to export


async def test_a_refused_upload_is_explained_beside_its_field(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _seller, browser, _ours = await operator_of(app, client, session)
    header = await upload(browser, b"order,amount\nA,1\n")
    assert header.status_code == 422
    assert 'id="f-file-error"' in header.text and "列名" in header.text
    no_file = await browser.post("/portal/provider/statements", PERIOD)
    assert no_file.status_code == 422 and "请选择对账单文件" in no_file.text
    future = {"period_start_on": str(TODAY + timedelta(days=2)), "period_end_on": str(TODAY)}
    late = await post_file(
        browser,
        "/portal/provider/statements",
        future,
        {"file": ("s.csv", f"order_id,amount,occurred_at\nA,1,{NOW}\n".encode(), "text/csv")},
    )
    assert late.status_code == 422 and 'id="f-period_start_on-error"' in late.text
    assert await reports(session) == 0
    forged = await client.post(
        "/portal/provider/statements",
        data=PERIOD,
        files={"file": ("s.csv", b"order_id,amount,occurred_at\n", "text/csv")},
        headers=browser.headers,
    )
    assert forged.status_code == 403  # no CSRF token
    assert await reports(session) == 0


async def test_the_authority_reads_every_providers_reports_and_a_provider_only_its_own(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    seller, browser, ours = await operator_of(app, client, session)
    response = await upload(
        browser, f"order_id,amount,occurred_at\n{ours[0]},100000,{NOW}\n".encode()
    )
    report_url = response.headers["location"]
    report_id = report_url.rsplit("/", 1)[1]
    _other, stranger, _ = await operator_of(app, client, session)
    assert (await stranger.get(report_url)).status_code == 404
    assert (await stranger.get(f"{report_url}/export")).status_code == 404
    auditor = await create_user(session, role=Role.auditor)
    reader = await sign_in(app, client, session, auditor)
    listing = await reader.get(
        "/portal/authority/reconciliations", params={"provider_id": str(seller.organisation.id)}
    )
    assert f"/portal/authority/reconciliations/{report_id}" in listing.text
    detail = await reader.get(f"/portal/authority/reconciliations/{report_id}")
    assert seller.organisation.name in detail.text and "3,000.00" in detail.text
    broken = await reader.get("/portal/authority/reconciliations", params={"provider_id": "x"})
    assert broken.status_code == 422


async def test_ledger_health_shows_balance_programmes_and_records_a_verify_run(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _seller, _browser, _ours = await operator_of(app, client, session)
    authority = await create_organisation(session, kind=OrganisationKind.authority)
    officer = await create_user(session, organisation=authority, role=Role.finance)
    browser = await sign_in(app, client, session, officer)
    page = await browser.get("/portal/authority/ledger")
    assert page.status_code == 200
    assert "借贷平衡" in page.text and "从未" in page.text  # balanced, never verified
    assert "provider" in page.text and "4,000.00" in page.text  # the provider's payable
    verified = await browser.post("/portal/authority/ledger/verify")
    assert verified.status_code == 303
    after = await browser.get("/portal/authority/ledger")
    assert "无断点" in after.text
    runs = await session.scalar(select(func.count()).select_from(LedgerVerifyRun))
    audited = await session.scalar(
        select(func.count()).where(col(AuditEvent.action) == "ledger.verified")
    )
    await session.commit()
    assert (runs, audited) == (1, 1)
    admin = await create_user(session, organisation=authority, role=Role.program_admin)
    reader = await sign_in(app, client, session, admin)
    shown = await reader.get("/portal/authority/ledger")
    assert "立即校验整个账本" not in shown.text  # programme admins read; they do not verify
    assert (await reader.post("/portal/authority/ledger/verify")).status_code == 403


async def test_the_enterprise_dashboard_warns_of_a_voucher_expiring_within_30_days(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    enterprise = await create_organisation(session, name="北京智算科技有限公司")
    owner = await create_user(session, organisation=enterprise, role=Role.owner)
    voucher = await create_voucher(session, holder=enterprise, amount=50_000_00)
    browser = await sign_in(app, client, session, owner)
    assert "即将到期" not in (await browser.get("/portal/enterprise")).text
    voucher.valid_until = utcnow() + timedelta(days=20)
    session.add(voucher)
    await session.commit()
    assert "即将到期" not in (await browser.get("/portal/enterprise")).text  # not warned yet
    assert await warn(session, voucher.id)  # what the hourly job does
    await session.commit()
    page = await browser.get("/portal/enterprise")
    assert "即将到期" in page.text and "50,000.00" in page.text
    assert f"/portal/enterprise/vouchers/{voucher.id}" in page.text
