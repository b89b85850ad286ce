"""Money journeys in a real browser: a provider's operator creates API credentials, its billing
system redeems a voucher with them over real HTTP, and the operator sees the redemption; finance
generates a settlement, two officers approve it (four eyes), the provider confirms it and
finance records the payment with its bank reference. Screenshots of every main page."""

from __future__ import annotations

import itertools
import re
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from ledger.sqltypes import utcnow
from tests.e2e.conftest import HAVE_CHROMIUM, LiveServer, arrange, shoot
from tests.e2e.test_journeys import Journey, open_nav, shown_secret, sign_in
from tests.factories import create_organisation, create_user
from tests.programs.factories import create_program, create_provider, create_voucher
from tests.settlements.factories import capture
from voucher_service.exports.columns import SHANGHAI
from voucher_service.organisations.models import OrganisationKind
from voucher_service.users.models import Role

pytestmark = pytest.mark.skipif(not HAVE_CHROMIUM, reason="no Chromium at /usr/bin/chromium")
_serial = itertools.count(1)


def _seller(live_server: LiveServer, n: int) -> dict[str, str]:
    """An approved provider with an operator, and a start-up's voucher it may redeem."""

    async def work(session: Any) -> dict[str, str]:
        provider = await create_provider(
            session,
            organisation=await create_organisation(
                session, kind=OrganisationKind.provider, name=f"华东智算云有限公司{n}"
            ),
        )
        email = f"billing-ops{n}@cloud.example.cn"
        await create_user(session, organisation=provider, role=Role.operator, email=email)
        voucher = await create_voucher(session, amount=50_000_00, provider=provider, rate_bp=5000)
        return {"email": email, "voucher_code": voucher.code}

    found: dict[str, str] = arrange(live_server.settings, work)  # type: ignore[assignment]
    return found


def redeem_over_http(base_url: str, client_id: str, secret: str, code: str, order: str) -> None:
    """What the provider's billing system does: a token, then a captured redemption."""
    with httpx.Client(base_url=base_url, timeout=20) as api:
        token = api.post(
            "/v1/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
            },
        )
        assert token.status_code == 200, token.text
        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        response = api.post(
            "/v1/provider/redemptions",
            json={
                "voucher_code": code,
                "order_id": order,
                "bill_amount": 300_000,
                "currency": "CNY",
                "usage": {
                    "resource": "gpu_hour",
                    "quantity": "120",
                    "unit": "hour",
                    "unit_price": 2500,
                },
                "capture": True,
                "allow_partial": False,
            },
            headers={**bearer, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert response.status_code == 201, response.text
        assert response.json()["covered_amount"] == 150_000  # 50 % of 3,000.00 CNY


def test_a_provider_creates_credentials_and_sees_a_redemption_made_with_them(
    journey: Journey, live_server: LiveServer, screenshots: Path
) -> None:
    n = next(_serial)
    cast = _seller(live_server, n)
    order = f"BILL-2026-{n:05d}"

    def steps(page: Any) -> None:
        sign_in(page, cast["email"])
        page.wait_for_url(re.compile(r"/portal/provider$"))
        open_nav(page, "API 凭据")
        name = "计费系统（核销）"
        page.get_by_label("凭据名称").fill(name)
        page.get_by_role("button", name="创建凭据").click()
        secret = shown_secret(page)
        client_id = page.locator("tr", has_text=name).locator("code").first.inner_text().strip()
        shoot(page, screenshots, "40-provider-credential-secret-shown-once")
        page.reload()
        assert page.locator("#shown-secret").count() == 0  # shown once only

        redeem_over_http(live_server.url, client_id, secret, cast["voucher_code"], order)

        open_nav(page, "核销记录")
        row = page.locator("tr", has_text=order)
        assert row.count() == 1
        assert "1,500.00" in row.inner_text() and "已确认" in row.inner_text()
        shoot(page, screenshots, "41-provider-redemption-made-with-the-new-credential")
        open_nav(page, "工作台")
        today = page.locator(".stat", has_text="今日").first.inner_text()
        assert "1,500.00" in today
        shoot(page, screenshots, "42-provider-dashboard-with-redemption-figures")

    journey(steps)


def _payable_provider(live_server: LiveServer, n: int) -> dict[str, str]:
    """A provider owed 150,000.00 CNY today (above the four-eyes limit), its operator, and two
    finance officers."""

    async def work(session: Any) -> dict[str, str]:
        provider = await create_organisation(
            session, kind=OrganisationKind.provider, name=f"西部智算中心有限公司{n}"
        )
        await create_provider(session, organisation=provider)
        program = await create_program(
            session,
            name=f"2026 年度算力券（结算{n}）",
            providers=[provider],
            budget=1_000_000_00,
        )
        voucher = await create_voucher(
            session, amount=500_000_00, provider=provider, program=program
        )
        await capture(session, voucher, provider.id, 100_000_00)
        await capture(session, voucher, provider.id, 50_000_00)
        authority = await create_organisation(
            session, kind=OrganisationKind.authority, name="某市财政局"
        )
        emails = {"program": program.name, "provider": provider.name}
        for who, name, role, org in (
            ("first", "孙海燕", Role.finance, authority),
            ("second", "周强", Role.finance, authority),
            ("operator", "赵工", Role.operator, provider),
        ):
            email = f"{who}-pay{n}@example.gov.cn"
            await create_user(session, organisation=org, role=role, email=email, name=name)
            emails[who] = email
        return emails

    found: dict[str, str] = arrange(live_server.settings, work)  # type: ignore[assignment]
    return found


def test_a_finance_user_pays_a_settlement(
    journey: Journey, live_server: LiveServer, screenshots: Path
) -> None:
    n = next(_serial)
    cast = _payable_provider(live_server, n)
    assert live_server.settings.settlement_four_eyes_amount < 150_000_00  # four eyes apply
    journey(lambda page: generate_and_first_approval(page, screenshots, cast))
    journey(lambda page: second_approval(page, screenshots, cast))
    journey(lambda page: provider_confirms(page, screenshots, cast))
    journey(lambda page: finance_pays(page, screenshots, cast))


def open_settlement(page: Any, cast: dict[str, str], email: str) -> None:
    sign_in(page, email)
    open_nav(page, "结算")
    page.locator("tr", has_text=cast["provider"]).get_by_role("link").click()
    page.wait_for_load_state()


def generate_and_first_approval(page: Any, screenshots: Path, cast: dict[str, str]) -> None:
    sign_in(page, cast["first"])
    open_nav(page, "结算")
    today = utcnow().astimezone(SHANGHAI).date()
    page.get_by_label("项目", exact=True).select_option(label=cast["program"])
    page.get_by_label("期间首日").fill(str(today - timedelta(days=1)))
    page.get_by_label("期间末日").fill(str(today))
    page.get_by_role("button", name="生成草稿").click()
    assert "已生成" in page.get_by_role("status").inner_text()
    shoot(page, screenshots, "43-finance-settlement-drafts")
    page.locator("tr", has_text=cast["provider"]).get_by_role("link").click()
    assert "150,000.00" in page.locator(".page-head").inner_text()
    page.get_by_role("button", name="作出第一次批准").click()
    assert "另一名财务人员" in page.get_by_role("status").inner_text()
    # The same officer cannot give the second approval too.
    page.get_by_role("button", name="批准并下发给收款方").click()
    assert page.locator(".error-summary").is_visible()
    shoot(page, screenshots, "44-finance-four-eyes-refusal")


def second_approval(page: Any, screenshots: Path, cast: dict[str, str]) -> None:
    open_settlement(page, cast, cast["second"])
    page.get_by_role("button", name="批准并下发给收款方").click()
    assert "已批准" in page.locator(".page-head").inner_text()
    shoot(page, screenshots, "45-finance-settlement-approved")


def provider_confirms(page: Any, screenshots: Path, cast: dict[str, str]) -> None:
    sign_in(page, cast["operator"])
    open_nav(page, "结算")
    page.locator("tr", has_text=cast["program"]).get_by_role("link").click()
    shoot(page, screenshots, "46-provider-settlement-to-confirm")
    page.get_by_role("button", name="确认结算单").click()
    assert "已确认" in page.get_by_role("status").inner_text()


def finance_pays(page: Any, screenshots: Path, cast: dict[str, str]) -> None:
    open_settlement(page, cast, cast["first"])
    page.get_by_label("银行流水号").fill("ICBC-20261130-0042")
    page.get_by_role("button", name=re.compile("登记已付款")).click()
    assert "付款已登记" in page.get_by_role("status").inner_text()
    assert "已支付" in page.locator(".page-head").inner_text()
    assert "ICBC-20261130-0042" in page.locator(".facts").first.inner_text()
    shoot(page, screenshots, "47-finance-settlement-paid")
    open_nav(page, "账本健康")
    assert "借贷平衡" in page.locator(".page-head").inner_text()
    row = page.locator("tr", has_text=cast["program"]).inner_text()
    assert "150,000.00" in row  # spent and paid out
    shoot(page, screenshots, "48-finance-ledger-health")
