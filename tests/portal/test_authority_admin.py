"""The authority's administration pages: vouchers, providers, programme set-up and exports,
through the same services as the API; a refused or malformed form changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from providers.registry.models import CatalogueItem, ProviderProfile, ProviderState
from tests.factories import audit_events, create_organisation, create_user, make_credit_code
from tests.portal.helpers import Browser, sign_in
from tests.programs.factories import create_program, create_provider, create_voucher
from voucher_service.db import Database
from voucher_service.organisations.models import OrganisationKind
from voucher_service.programs import service as programs
from voucher_service.programs.models import Program
from voucher_service.users.models import Role
from voucher_service.vouchers.codes import display
from voucher_service.vouchers.models import Voucher
from voucher_service.vouchers.redeemable import may_redeem

PROFILE = select(ProviderProfile)


async def read(session: AsyncSession, query: Any) -> Any:
    """One object as the database has it now (the test's transaction ends at once)."""
    found = await session.scalar(query.execution_options(populate_existing=True))
    await session.commit()
    return found


async def authority(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, role: Role
) -> Browser:
    body = await create_organisation(session, kind=OrganisationKind.authority)
    user = await create_user(session, organisation=body, role=role)
    return await sign_in(app, client, session, user)


# --- vouchers ---------------------------------------------------------------------------------


async def test_a_code_with_a_typo_is_refused_readably_and_a_good_one_leads_to_the_voucher(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    voucher = await create_voucher(session, amount=5_000_00)
    browser = await authority(app, client, session, Role.reviewer)
    code = display(voucher.code)
    wrong_check = code[:-1] + ("0" if code[-1] != "0" else "1")
    refused = await browser.get("/portal/authority/vouchers", params={"code": wrong_check})
    assert refused.status_code == 422
    assert "这不是有效的券码" in refused.text
    found = await browser.get("/portal/authority/vouchers", params={"code": code.lower()})
    assert found.status_code == 303
    assert found.headers["location"] == f"/portal/authority/vouchers/{voucher.id}"
    page = await browser.get(found.headers["location"])
    assert page.status_code == 200
    assert code in page.text
    assert "5,000.00" in page.text  # the balance, from the ledger
    assert "冻结" not in page.text  # a reviewer reads; only programme administrators act


async def test_freezing_needs_a_reason_and_a_confirmation_then_uses_the_voucher_service(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    voucher = await create_voucher(session, amount=1_000_00)
    browser = await authority(app, client, session, Role.program_admin)
    url = f"/portal/authority/vouchers/{voucher.id}"
    unconfirmed = await browser.post(f"{url}/freeze", {"reason": "涉嫌套取补贴"})
    assert unconfirmed.status_code == 422
    assert "请勾选以确认" in unconfirmed.text
    assert 'value="涉嫌套取补贴"' in unconfirmed.text  # what was typed is kept
    frozen = await browser.post(f"{url}/freeze", {"reason": "涉嫌套取补贴", "confirm": "yes"})
    assert frozen.status_code == 303
    assert (await read(session, select(Voucher).where(col(Voucher.id) == voucher.id))).state == (
        "frozen"
    )
    again = await browser.post(f"{url}/freeze", {"reason": "再次冻结", "confirm": "yes"})
    assert again.status_code == 422  # the service refuses: it is frozen already
    revoked = await browser.post(f"{url}/revoke", {"reason": "核实套取", "confirm": "yes"})
    assert revoked.status_code == 303
    after = await read(session, select(Voucher).where(col(Voucher.id) == voucher.id))
    assert after.state == "revoked"
    actions = [e.action for e in await audit_events(database) if e.action.startswith("voucher.")]
    assert actions[-2:] == ["voucher.frozen", "voucher.revoked"]


async def test_a_voucher_search_by_state_lists_and_refuses_an_unknown_state(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    voucher = await create_voucher(session, amount=2_000_00)
    browser = await authority(app, client, session, Role.auditor)
    listed = await browser.get("/portal/authority/vouchers", params={"state": "active"})
    assert listed.status_code == 200
    assert f"/portal/authority/vouchers/{voucher.id}" in listed.text
    refused = await browser.get("/portal/authority/vouchers", params={"state": "melted"})
    assert refused.status_code == 422
    assert "请从选项中选择" in refused.text or "Choose one of the options" in refused.text


# --- providers --------------------------------------------------------------------------------


async def test_a_provider_is_registered_listed_for_publicity_approved_and_suspended(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    browser = await authority(app, client, session, Role.program_admin)
    code = make_credit_code()
    registered = await browser.post(
        "/portal/authority/providers",
        {"name": "临港智算", "credit_code": code, "services": ["compute"]},
    )
    assert registered.status_code == 303
    url = registered.headers["location"]
    provider_id = uuid.UUID(url.rsplit("/", 1)[1])
    profile = await read(
        session, PROFILE.where(col(ProviderProfile.organisation_id) == provider_id)
    )
    assert profile.state == ProviderState.proposed
    assert (await browser.post(f"{url}/publicity", {"days": "0"})).status_code == 303
    assert (await browser.post(f"{url}/approve")).status_code == 303
    unconfirmed = await browser.post(f"{url}/suspend", {"reason": "违规收费"})
    assert unconfirmed.status_code == 422
    profile = await read(
        session, PROFILE.where(col(ProviderProfile.organisation_id) == provider_id)
    )
    assert profile.state == ProviderState.approved  # nothing changed
    suspended = await browser.post(f"{url}/suspend", {"reason": "违规收费", "confirm": "yes"})
    assert suspended.status_code == 303
    profile = await read(
        session, PROFILE.where(col(ProviderProfile.organisation_id) == provider_id)
    )
    assert profile.state == ProviderState.suspended
    page = await browser.get(url)
    assert "违规收费" in page.text
    actions = [e.action for e in await audit_events(database) if e.action.startswith("provider.")]
    assert actions == [
        "provider.proposed",
        "provider.publicity_started",
        "provider.approved",
        "provider.suspended",
    ]


async def test_a_suspended_provider_can_no_longer_redeem_at_once(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    provider = await create_provider(session)
    voucher = await create_voucher(session, provider=provider, amount=1_000_00)
    browser = await authority(app, client, session, Role.program_admin)
    response = await browser.post(
        f"/portal/authority/providers/{provider.id}/suspend",
        {"reason": "暂停核销", "confirm": "yes"},
    )
    assert response.status_code == 303
    redeemable = await may_redeem(session, voucher, provider.id)
    await session.commit()
    assert redeemable is False


async def test_registration_with_a_bad_credit_code_or_no_service_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    browser = await authority(app, client, session, Role.program_admin)
    before = await read(session, select(func.count()).select_from(ProviderProfile))
    bad_code = await browser.post(
        "/portal/authority/providers",
        {"name": "临港智算", "credit_code": "91310000ABCDEFGHIJ", "services": ["compute"]},
    )
    assert bad_code.status_code == 422
    assert 'value="临港智算"' in bad_code.text
    no_service = await browser.post(
        "/portal/authority/providers", {"name": "临港智算", "credit_code": make_credit_code()}
    )
    assert no_service.status_code == 422
    assert await read(session, select(func.count()).select_from(ProviderProfile)) == before


async def test_the_catalogue_is_added_to_changed_and_withdrawn(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    provider = await create_provider(session, catalogue=())
    browser = await authority(app, client, session, Role.program_admin)
    url = f"/portal/authority/providers/{provider.id}"
    bad_price = await browser.post(
        f"{url}/catalogue", {"resource": "npu_hour", "unit": "hour", "list_price": "12.345"}
    )
    assert bad_price.status_code == 422
    assert "请输入以元为单位的金额" in bad_price.text or "Enter an amount in yuan" in bad_price.text
    added = await browser.post(
        f"{url}/catalogue", {"resource": "npu_hour", "unit": "hour", "list_price": "12.50"}
    )
    assert added.status_code == 303
    item = await read(
        session, select(CatalogueItem).where(col(CatalogueItem.provider_id) == provider.id)
    )
    assert item.list_price_amount == 12_50
    twice = await browser.post(f"{url}/catalogue", {"resource": "npu_hour", "unit": "hour"})
    assert twice.status_code == 422  # the same resource and unit twice: refused by the registry
    edit = await browser.get(f"{url}/catalogue/{item.id}")
    assert 'value="12.50"' in edit.text
    changed = await browser.post(
        f"{url}/catalogue/{item.id}",
        {"description": "昇腾 910B", "list_price": "11", "active": "true"},
    )
    assert changed.status_code == 303
    withdrawn = await browser.post(f"{url}/catalogue/{item.id}/withdraw")
    assert withdrawn.status_code == 303
    item = await read(session, select(CatalogueItem).where(col(CatalogueItem.id) == item.id))
    assert (item.description, item.list_price_amount, item.active) == ("昇腾 910B", 11_00, False)


# --- programmes -------------------------------------------------------------------------------


def tier(rule: str, rate_bp: int, max_contract_amount: int | None) -> dict[str, Any]:
    return {
        "rule": rule,
        "rate_bp": rate_bp,
        "startup_years": 3,
        "max_contract_amount": max_contract_amount,
        "industries": [],
    }


def programme_form(**changes: str) -> dict[str, str]:
    values = {
        "name": "2027 年度模型券",
        "description": "支持模型调用",
        "kind": "model",
        "mode": "point_of_sale",
        "fiscal_year": "2027",
        "default_rate": "30",
        "tier0_rule": "startup",
        "tier0_rate": "50",
        "tier0_years": "3",
        "tier1_rule": "small_contract",
        "tier1_rate": "40",
        "tier1_max_contract": "100000",
        "contract_cap": "500000",
        "enterprise_annual_cap": "2000000",
        "rounding_unit": "yuan",
        "opens_on": "2027-01-01",
        "closes_on": "2027-12-31",
        "validity_days": "365",
        "stage0_name": "preliminary",
        "stage0_kind": "review",
        "stage1_name": "publicity",
        "stage1_kind": "publicity",
        "stage1_days": "7",
        "oversubscription_policy": "fifo_by_contract_date",
    }
    return values | changes


async def test_a_programme_is_created_with_all_its_rules_changed_funded_and_opened(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    admin = await authority(app, client, session, Role.program_admin)
    created = await admin.post("/portal/authority/programme-setup", programme_form())
    assert created.status_code == 303, created.text[-2000:]
    url = created.headers["location"]
    program_id = uuid.UUID(url.split("/")[-2])
    program = await read(session, select(Program).where(col(Program.id) == program_id))
    assert program.status == "draft"
    assert program.rate_tiers == [
        {
            "rule": "startup",
            "rate_bp": 5000,
            "startup_years": 3,
            "max_contract_amount": None,
            "industries": [],
        },
        {
            "rule": "small_contract",
            "rate_bp": 4000,
            "startup_years": 3,
            "max_contract_amount": 100_000_00,
            "industries": [],
        },
    ]
    assert program.review_stages[-1] == {"name": "publicity", "kind": "publicity", "days": 7}
    assert (program.contract_cap_amount, program.rounding_unit) == (500_000_00, "yuan")
    changed = await admin.post(f"{url}", programme_form(default_rate="25", stage1_days="10"))
    assert changed.status_code == 303
    program = await read(session, select(Program).where(col(Program.id) == program_id))
    assert (program.default_rate_bp, program.review_stages[-1]["days"]) == (2500, 10)
    provider = await create_provider(session)
    base = f"/portal/authority/programmes/{program_id}"
    too_early = await admin.post(f"{base}/open")
    assert too_early.status_code == 422  # no provider yet: the service refuses
    assert (
        await admin.post(f"{base}/providers", {"provider_id": str(provider.id)})
    ).status_code == 303
    ceiling = await admin.post(
        f"{base}/price-ceilings",
        {"resource": "token_1k", "unit": "1k_tokens", "max_unit_price": "0.05"},
    )
    assert ceiling.status_code == 303
    finance = await authority(app, client, session, Role.finance)
    form = {"amount": "1000000", "funding_key": "k-1", "note": "第一批"}
    assert (await finance.post(f"{base}/fund", form)).status_code == 303
    assert (await finance.post(f"{base}/fund", form)).status_code == 303  # the same form again
    assert (await admin.post(f"{base}/open")).status_code == 303
    page = await admin.get(url)
    assert "1,000,000.00" in page.text  # funded once, read from the ledger
    funded = [e for e in await audit_events(database) if e.action == "program.funded"]
    assert len(funded) == 1
    frozen = await admin.post(url, programme_form(default_rate="20"))
    assert frozen.status_code == 422  # an open programme's rules never change
    program = await read(session, select(Program).where(col(Program.id) == program_id))
    assert program.default_rate_bp == 2500


async def test_bad_programme_rules_are_shown_beside_their_fields_and_nothing_is_created(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await authority(app, client, session, Role.program_admin)
    before = await read(session, select(func.count()).select_from(Program))
    for changes, message in (
        ({"default_rate": "130"}, "请输入 0 到 100 之间的百分比"),
        ({"name": ""}, "请填写"),
        ({"contract_cap": "abc"}, "请输入以元为单位的金额"),
        ({"stage1_kind": "review"}, "项目规则不一致：the last review stage must be the publicity"),
        ({"closes_on": "2026-12-31"}, "项目规则不一致：closes_on is before opens_on"),
    ):
        response = await admin.post("/portal/authority/programme-setup", programme_form(**changes))
        assert response.status_code == 422, changes
        assert message in response.text, changes
    assert await read(session, select(func.count()).select_from(Program)) == before


async def test_funding_is_for_finance_and_a_bad_amount_moves_nothing(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    program = await create_program(session)
    base = f"/portal/authority/programmes/{program.id}"
    admin = await authority(app, client, session, Role.program_admin)
    assert (
        await admin.post(f"{base}/fund", {"amount": "10", "funding_key": "a"})
    ).status_code == 403
    finance = await authority(app, client, session, Role.finance)
    bad = await finance.post(f"{base}/fund", {"amount": "-5", "funding_key": "b"})
    assert bad.status_code == 422
    figures = await programs.figures(session, program)
    await session.commit()
    assert figures.budget == 0


async def test_forms_without_the_csrf_token_are_refused_and_change_nothing(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    voucher = await create_voucher(session, amount=1_000_00)
    browser = await authority(app, client, session, Role.program_admin)
    for url, data in (
        (f"/portal/authority/vouchers/{voucher.id}/revoke", {"reason": "伪造", "confirm": "yes"}),
        ("/portal/authority/programme-setup", programme_form()),
        (
            "/portal/authority/providers",
            {"name": "伪造", "credit_code": make_credit_code(), "services": "compute"},
        ),
    ):
        response = await client.post(url, data=data, headers=browser.headers)
        assert response.status_code == 403
        assert "表单已失效" in response.text
    assert (
        await read(session, select(Voucher).where(col(Voucher.id) == voucher.id))
    ).state == "active"
    assert (
        await read(
            session,
            select(func.count()).select_from(Program).where(col(Program.name) == "2027 年度模型券"),
        )
        == 0
    )


# --- exports ----------------------------------------------------------------------------------


async def test_the_exports_page_links_files_with_the_chosen_headers_and_they_stream(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    voucher = await create_voucher(session, amount=3_000_00)
    browser = await authority(app, client, session, Role.finance)
    page = await browser.get("/portal/authority/exports", params={"format": "csv", "lang": "en"})
    assert page.status_code == 200
    report = f"/portal/authority/exports/programmes/{voucher.program_id}"
    link = f"{report}/burn-down?format=csv&amp;lang=en"
    assert link in page.text
    english = await browser.get(link.replace("&amp;", "&"))
    assert english.status_code == 200
    assert english.headers["content-type"].startswith("text/csv")
    assert "Awarded (CNY)" in english.text
    chinese = await browser.get(
        f"{report}/burn-down",
        params={"format": "xlsx", "lang": "zh"},
    )
    assert chinese.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert chinese.content[:2] == b"PK"
    unknown = await browser.get(
        f"/portal/authority/exports/programmes/{voucher.program_id}/secrets"
    )
    assert unknown.status_code == 404


async def test_the_exports_page_links_the_programmes_redemption_list(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    voucher = await create_voucher(session, amount=3_000_00)
    browser = await authority(app, client, session, Role.auditor)
    page = await browser.get("/portal/authority/exports", params={"format": "xlsx", "lang": "zh"})
    link = f"/portal/authority/exports/programmes/{voucher.program_id}/redemption-list"
    assert f"{link}?format=xlsx&amp;lang=zh" in page.text
    assert "核销明细（逐笔）" in page.text
    listing = await browser.get(link, params={"format": "csv", "lang": "en"})
    assert listing.status_code == 200
    assert listing.headers["content-type"].startswith("text/csv")
    assert "Order" in listing.text.splitlines()[0]
    as_json = await browser.get(link, params={"format": "json"})  # a file, never JSON
    assert as_json.headers["content-type"].startswith("text/csv")
