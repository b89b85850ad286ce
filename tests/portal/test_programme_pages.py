"""The public programme pages: published programmes only, rules said in plain words."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from tests.factories import create_organisation, create_user
from tests.portal.helpers import cookie_header, csrf_token, sign_in
from tests.programs.factories import create_program, create_provider, create_voucher
from voucher_service.organisations.models import OrganisationKind
from voucher_service.programs.models import ProgramStatus
from voucher_service.users.models import Role


async def test_the_list_shows_published_programmes_and_hides_drafts(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await create_program(session, name="上海算力券 2026", status=ProgramStatus.open)
    await create_program(session, name="草稿计划", status=ProgramStatus.draft)
    page = await client.get("/portal/programmes")
    assert page.status_code == 200
    assert "上海算力券 2026" in page.text
    assert "草稿计划" not in page.text
    assert "成立不满 3 年的企业：合同金额的 60%" in page.text


async def test_a_programme_says_its_rules_in_plain_words(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    provider = await create_provider(session)
    program = await create_program(
        session,
        providers=[provider],
        budget=600_000_00,
        rate_tiers=[
            {"rule": "startup", "rate_bp": 6000, "startup_years": 3},
            {"rule": "small_contract", "rate_bp": 5000, "max_contract_amount": 500_000_00},
        ],
        default_rate_bp=3000,
        enterprise_annual_cap_amount=2_000_000_00,
        claim_share_bp=2000,
        rounding_unit="yuan",
    )
    page = await client.get(f"/portal/programmes/{program.id}", headers={"Cookie": "lang=en"})
    assert page.status_code == 200
    text = page.text
    assert "Contracts of at most 500,000.00 yuan: 50%" in text
    assert "Everyone else: 30%" in text
    assert "At most 2,000,000.00 yuan per enterprise in a fiscal year" in text
    assert "At most 20% of the contract amount." in text
    assert "down to whole yuan" in text
    assert "published for 5 days" in text
    assert "600,000.00" in text  # the budget, from the ledger


async def test_a_draft_programme_is_not_found(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    program = await create_program(session, status=ProgramStatus.draft)
    page = await client.get(f"/portal/programmes/{program.id}")
    assert page.status_code == 404


async def test_the_programme_report_draws_its_charts_from_the_programmes_money(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    provider = await create_provider(session)
    program = await create_program(session, providers=[provider], budget=600_000_00)
    await create_voucher(session, program=program, provider=provider, amount=25_102_00)
    authority = await create_organisation(session, kind=OrganisationKind.authority)
    finance = await create_user(session, organisation=authority, role=Role.finance)
    browser = await sign_in(app, client, session, finance)
    listed = await browser.get("/portal/authority/programmes")
    assert program.name in listed.text and "25,102.00" in listed.text
    report = await browser.get(f"/portal/authority/programmes/{program.id}")
    assert report.status_code == 200
    assert report.text.count('role="img"') == 1  # burn-down; no redemptions or applications yet
    assert "574,898.00" in report.text  # the budget still to commit after the award


async def test_anyone_objects_to_an_award_in_publicity(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    from tests.portal.test_apply import startup, submitted_application
    from tests.portal.test_review import reviewers
    from voucher_service.applications.models import Objection

    stages = [
        {"name": "初审", "kind": "review", "days": 0},
        {"name": "公示", "kind": "publicity", "days": 7},
    ]
    founder, program, provider = await startup(app, client, session, review_stages=stages)
    application_id = await submitted_application(founder, program, provider)
    (reviewer,) = await reviewers(app, client, session, 1)
    await reviewer.post(
        f"/portal/authority/applications/{application_id}/decisions", {"decision": "approve"}
    )
    listed = await client.get("/portal/publicity")
    assert "多模态大模型训练" in listed.text and "25,102.00" in listed.text
    token = csrf_token(app)
    headers = {"Cookie": cookie_header(None)}
    too_short = await client.post(
        f"/portal/publicity/{application_id}/objections",
        data={"csrf_token": token, "text": "no"},
        headers=headers,
    )
    assert too_short.status_code == 422
    sent = await client.post(
        f"/portal/publicity/{application_id}/objections",
        data={"csrf_token": token, "text": "该企业与服务商存在关联关系。"},
        headers=headers,
    )
    assert sent.status_code == 303
    stored = await session.scalar(select(Objection))
    await session.commit()
    assert stored is not None and stored.application_id == application_id
