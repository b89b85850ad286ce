"""The authority's administration pages: vouchers, providers, programme set-up and exports,
through the same services as the API; a refused or malformed form changes nothing."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from tests.factories import audit_events, create_organisation, create_user
from tests.portal.helpers import Browser, sign_in
from tests.programs.factories import create_voucher
from voucher_service.db import Database
from voucher_service.organisations.models import OrganisationKind
from voucher_service.users.models import Role
from voucher_service.vouchers.codes import display
from voucher_service.vouchers.models import Voucher


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
