"""Settlements in the portal: finance generates, approves (four eyes) and pays; the provider
confirms or disputes within the window. Every step through the settlements service, audited."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ledger.sqltypes import utcnow
from tests.factories import create_organisation, create_user
from tests.portal.helpers import Browser, sign_in
from tests.programs.factories import create_provider, create_voucher
from tests.settlements.factories import capture
from voucher_service.audit.models import AuditEvent
from voucher_service.exports.columns import SHANGHAI
from voucher_service.organisations.models import Organisation, OrganisationKind
from voucher_service.settlements.models import Settlement
from voucher_service.users.models import Role, User

TODAY = utcnow().astimezone(SHANGHAI).date()
PERIOD = {"period_start_on": str(TODAY - timedelta(days=1)), "period_end_on": str(TODAY)}


async def provider_with_captures(session: AsyncSession, *amounts: int) -> tuple[Organisation, str]:
    """A provider whose payable account received ``amounts`` from a voucher; its programme."""
    provider = await create_organisation(session, kind=OrganisationKind.provider, name="华东算力")
    await create_provider(session, organisation=provider)
    voucher = await create_voucher(session, amount=10_000_000_00, provider=provider)
    for amount in amounts:
        await capture(session, voucher, provider.id, amount)
    return provider, str(voucher.program_id)


async def finance_users(session: AsyncSession) -> tuple[User, User]:
    authority = await create_organisation(session, kind=OrganisationKind.authority)
    return (
        await create_user(session, organisation=authority, role=Role.finance, name="孙海燕"),
        await create_user(session, organisation=authority, role=Role.finance, name="周强"),
    )


async def the_settlement(session: AsyncSession, provider: Organisation) -> Settlement:
    await session.commit()  # a fresh read: the portal changed it in another unit of work
    query = select(Settlement).where(col(Settlement.payee_id) == provider.id)
    found = await session.scalar(query.execution_options(populate_existing=True))
    await session.commit()  # end the read: SQLite writers must not wait for it
    assert found is not None
    return found


async def actions(session: AsyncSession, settlement: Settlement) -> list[str]:
    rows = await session.scalars(
        select(AuditEvent.action)
        .where(col(AuditEvent.target_id) == str(settlement.id))
        .order_by(col(AuditEvent.id))
    )
    found = list(rows)
    await session.commit()
    return found


async def generated(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, *amounts: int
) -> tuple[Organisation, Browser, Browser, Settlement]:
    provider, program_id = await provider_with_captures(session, *amounts)
    first, second = await finance_users(session)
    one = await sign_in(app, client, session, first)
    response = await one.post("/portal/authority/settlements", {"program_id": program_id, **PERIOD})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/portal/authority/settlements?status=draft"
    return (
        provider,
        one,
        await sign_in(app, client, session, second),
        await the_settlement(session, provider),
    )


async def test_finance_generates_approves_with_four_eyes_and_pays(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    app.state.settings.settlement_four_eyes_amount = 1_000_00
    provider, first, second, settlement = await generated(app, client, session, 700_00, 500_00)
    assert (settlement.status, settlement.net_amount) == ("draft", 1200_00)
    assert settlement.item_count == 2
    listing = await first.get("/portal/authority/settlements", params={"status": "draft"})
    assert "华东算力" in listing.text and "1,200.00" in listing.text
    url = f"/portal/authority/settlements/{settlement.id}"
    page = await first.get(url)
    assert "两名" in page.text  # above the four-eyes limit: two officers must approve
    assert (await first.post(f"{url}/approve")).status_code == 303
    again = await first.post(f"{url}/approve")
    assert again.status_code == 422
    assert "另一名财务人员" in again.text  # the service's four-eyes refusal, in Chinese
    assert (await second.post(f"{url}/approve")).status_code == 303
    settlement = await the_settlement(session, provider)
    assert settlement.status == "approved" and settlement.approved_by_id is not None
    # Not confirmed and the window still open: the service refuses the payment.
    early = await second.post(f"{url}/pay", {"bank_reference": "ICBC-2026-0001"})
    assert early.status_code == 422 and "尚未确认" in early.text
    await session.execute(
        sa.update(Settlement)
        .where(col(Settlement.id) == settlement.id)
        .values(confirmed_at=utcnow())
    )
    await session.commit()
    blank = await second.post(f"{url}/pay", {"bank_reference": ""})
    assert blank.status_code == 422 and 'id="f-bank_reference-error"' in blank.text
    paid = await second.post(f"{url}/pay", {"bank_reference": "ICBC-2026-0001"})
    assert paid.status_code == 303
    settlement = await the_settlement(session, provider)
    assert (settlement.status, settlement.bank_reference) == ("paid", "ICBC-2026-0001")
    assert settlement.ledger_transaction_id is not None
    assert await actions(session, settlement) == [
        "settlement.generated",
        "settlement.first_approval",
        "settlement.approved",
        "settlement.paid",
    ]
    shown = await first.get(url)
    assert "ICBC-2026-0001" in shown.text and "已支付" in shown.text
    export = await first.get(f"{url}/export")
    assert export.status_code == 200 and export.text.count("\n") == 3  # header and two items


async def test_generation_with_a_bad_period_is_explained_and_makes_nothing(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _provider, program_id = await provider_with_captures(session, 100_00)
    officer, _ = await finance_users(session)
    browser = await sign_in(app, client, session, officer)
    future = {"period_start_on": str(TODAY + timedelta(days=3)), "period_end_on": str(TODAY)}
    response = await browser.post(
        "/portal/authority/settlements", {"program_id": program_id, **future}
    )
    assert response.status_code == 422
    assert "结算期间" in response.text
    assert f'value="{future["period_start_on"]}"' in response.text  # what was typed is kept
    assert await session.scalar(select(sa.func.count()).select_from(Settlement)) == 0
    await session.commit()
    missing = await browser.post("/portal/authority/settlements", PERIOD)
    assert missing.status_code == 422 and 'id="gen-program_id-error"' in missing.text


async def issued(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> tuple[Organisation, Browser, Settlement]:
    """An approved settlement of a provider, and its operator's browser."""
    provider, officer, _second, settlement = await generated(app, client, session, 300_00)
    url = f"/portal/authority/settlements/{settlement.id}"
    assert (await officer.post(f"{url}/approve")).status_code == 303
    operator = await create_user(session, organisation=provider, role=Role.operator)
    return provider, await sign_in(app, client, session, operator), settlement


async def test_finance_cancels_a_draft(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    provider, one, _two, settlement = await generated(app, client, session, 300_00)
    url = f"/portal/authority/settlements/{settlement.id}"
    assert "撤销草稿" in (await one.get(url)).text
    blank = await one.post(f"{url}/cancel", {"comment": ""})
    assert blank.status_code == 422 and 'id="f-comment-error"' in blank.text
    assert (await the_settlement(session, provider)).status == "draft"  # nothing changed
    cancelled = await one.post(f"{url}/cancel", {"comment": "期间选错"})
    assert cancelled.status_code == 303
    settlement = await the_settlement(session, provider)
    assert (settlement.status, settlement.resolution_comment) == ("cancelled", "期间选错")
    assert "settlement.cancelled" in await actions(session, settlement)
    assert "撤销草稿" not in (await one.get(url)).text


async def test_the_provider_confirms_its_settlement(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    provider, browser, settlement = await issued(app, client, session)
    listing = await browser.get("/portal/provider/settlements")
    assert f"/portal/provider/settlements/{settlement.id}" in listing.text
    url = f"/portal/provider/settlements/{settlement.id}"
    page = await browser.get(url)
    assert "300.00" in page.text and "确认结算单" in page.text
    assert "1 张结算单等待您确认" in (await browser.get("/portal/provider")).text
    assert (await browser.post(f"{url}/confirm")).status_code == 303
    assert "等待您确认" not in (await browser.get("/portal/provider")).text
    settlement = await the_settlement(session, provider)
    assert settlement.confirmed_at is not None and settlement.status == "approved"
    again = await browser.post(f"{url}/confirm")
    assert again.status_code == 422  # answered already: the service's state conflict
    assert "settlement.confirmed" in await actions(session, settlement)


async def test_the_provider_disputes_with_a_reason_only(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    provider, browser, settlement = await issued(app, client, session)
    url = f"/portal/provider/settlements/{settlement.id}"
    blank = await browser.post(f"{url}/dispute", {"reason": "  "})
    assert blank.status_code == 422 and 'id="f-reason-error"' in blank.text
    assert (await the_settlement(session, provider)).status == "approved"
    reason = "第 3 笔订单金额与我方账单不符"
    assert (await browser.post(f"{url}/dispute", {"reason": reason})).status_code == 303
    settlement = await the_settlement(session, provider)
    assert (settlement.status, settlement.dispute_reason) == ("disputed", reason)
    assert reason in (await browser.get(url)).text


@pytest.mark.parametrize(
    ("resolution", "status", "action", "shown"),
    [
        ("uphold", "approved", "settlement.upheld", "登记付款"),
        ("cancel", "cancelled", "settlement.cancelled", "已取消"),
    ],
)
async def test_finance_resolves_a_dispute(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    resolution: str,
    status: str,
    action: str,
    shown: str,
) -> None:
    provider, operator, settlement = await issued(app, client, session)
    url = f"/portal/provider/settlements/{settlement.id}"
    assert (await operator.post(f"{url}/dispute", {"reason": "金额不符"})).status_code == 303
    officer = await sign_in(app, client, session, await create_user(session, role=Role.finance))
    url = f"/portal/authority/settlements/{settlement.id}"
    assert "处理异议" in (await officer.get(url)).text
    blank = await officer.post(f"{url}/resolve", {"resolution": resolution, "comment": ""})
    assert blank.status_code == 422 and 'id="f-comment-error"' in blank.text
    assert (await the_settlement(session, provider)).status == "disputed"  # nothing changed
    comment = "已与服务商核对第 3 笔订单"
    decided = await officer.post(f"{url}/resolve", {"resolution": resolution, "comment": comment})
    assert decided.status_code == 303
    settlement = await the_settlement(session, provider)
    assert (settlement.status, settlement.resolution_comment) == (status, comment)
    assert action in await actions(session, settlement)
    page = await officer.get(url)
    assert comment in page.text and "处理异议" not in page.text
    assert shown in page.text  # upheld: the payment form; cancelled: its state
    again = await officer.post(f"{url}/resolve", {"resolution": resolution, "comment": comment})
    assert again.status_code == 422  # resolved once: the service's state conflict


async def test_after_the_window_the_provider_can_no_longer_respond(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    provider, browser, settlement = await issued(app, client, session)
    await session.execute(
        sa.update(Settlement)
        .where(col(Settlement.id) == settlement.id)
        .values(respond_by=utcnow() - timedelta(minutes=1))
    )
    await session.commit()
    url = f"/portal/provider/settlements/{settlement.id}"
    refused = await browser.post(f"{url}/dispute", {"reason": "太晚了"})
    assert refused.status_code == 422 and "期限已过" in refused.text
    settlement = await the_settlement(session, provider)
    assert settlement.status == "approved" and settlement.dispute_reason is None


async def test_a_draft_is_not_shown_to_its_provider(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    provider, _one, _two, settlement = await generated(app, client, session, 100_00)
    operator = await create_user(session, organisation=provider, role=Role.operator)
    browser = await sign_in(app, client, session, operator)
    assert (await browser.get(f"/portal/provider/settlements/{settlement.id}")).status_code == 404
    listing = await browser.get("/portal/provider/settlements")
    assert str(settlement.id) not in listing.text


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (Role.finance, "/portal/authority/settlements"),
        (Role.finance, "/portal/authority/settlements/{id}/approve"),
        (Role.finance, "/portal/authority/settlements/{id}/pay"),
        (Role.finance, "/portal/authority/settlements/{id}/resolve"),
        (Role.operator, "/portal/provider/settlements/{id}/confirm"),
        (Role.operator, "/portal/provider/settlements/{id}/dispute"),
    ],
)
async def test_every_settlement_form_needs_its_csrf_token(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, role: Role, path: str
) -> None:
    provider, browser, settlement = await issued(app, client, session)
    if role == Role.finance:
        officer = await create_user(session, role=Role.finance)
        browser = await sign_in(app, client, session, officer)
    url = path.format(id=settlement.id)
    forged = await client.post(
        url, data={"reason": "x", "bank_reference": "x", **PERIOD}, headers=browser.headers
    )
    assert forged.status_code == 403
    assert "表单已失效" in forged.text
    after = await the_settlement(session, provider)
    assert (after.status, after.confirmed_at, after.bank_reference) == ("approved", None, None)
