"""The settlement, reconciliation and ledger pages on the demo's data: each renders for the
roles that use it, within the issue's budget (server time, best of three)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ledger.sqltypes import utcnow
from tests.portal.helpers import Browser, post_file, sign_in
from tests.portal.test_pages import BUDGET_MS, server_ms
from voucher_service.demo.command import fill
from voucher_service.exports.columns import SHANGHAI
from voucher_service.programs.models import Program
from voucher_service.reconciliation.models import Reconciliation
from voucher_service.redemptions.models import Redemption
from voucher_service.settings import Settings
from voucher_service.settlements.models import Settlement
from voucher_service.users.models import Role

TODAY = utcnow().astimezone(SHANGHAI).date()
PERIOD = {"period_start_on": str(TODAY - timedelta(days=1)), "period_end_on": str(TODAY)}


async def best_of_three(browser: Browser, url: str) -> float:
    await browser.get(url)  # warm: templates compiled, connections open
    best = float("inf")
    for _ in range(3):
        response = await browser.get(url)
        assert response.status_code == 200, (url, response.text[:300])
        best = min(best, server_ms(response))
    return best


@pytest.mark.slow
async def test_money_pages_render_within_budget_on_the_demo(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    cast = await fill(settings)
    assert cast is not None
    people = {user.role: user for user in cast.people.values()}
    finance = await sign_in(app, client, session, people[Role.finance])
    program = await session.scalar(select(Program))
    await session.commit()  # end the read: SQLite writers must not wait for it
    assert program is not None
    made = await finance.post(
        "/portal/authority/settlements", {"program_id": str(program.id), **PERIOD}
    )
    assert made.status_code == 303
    settlement = await session.scalar(select(Settlement).order_by(col(Settlement.id)))
    await session.commit()
    assert settlement is not None
    await finance.post(f"/portal/authority/settlements/{settlement.id}/approve")
    redemption = await session.scalar(
        select(Redemption).where(col(Redemption.provider_id) == settlement.payee_id)
    )
    assert redemption is not None
    operator_user = next(
        u
        for u in cast.people.values()
        if u.role == Role.operator and u.organisation_id == settlement.payee_id
    )
    await session.commit()
    operator = await sign_in(app, client, session, operator_user)
    statement = f"order_id,amount,occurred_at\n{redemption.order_id},1,{utcnow().isoformat()}\n"
    uploaded = await post_file(
        operator,
        "/portal/provider/statements",
        PERIOD,
        {"file": ("s.csv", statement.encode(), "text/csv")},
    )
    assert uploaded.status_code == 303
    report = await session.scalar(select(Reconciliation))
    assert report is not None
    await session.commit()
    auditor = await sign_in(app, client, session, people[Role.auditor])
    owner = await sign_in(app, client, session, people[Role.owner])
    pages = {
        operator: [
            "/portal/provider",
            "/portal/provider/settlements",
            f"/portal/provider/settlements/{settlement.id}",
            "/portal/provider/statements",
            f"/portal/provider/reconciliations/{report.id}",
        ],
        finance: [
            "/portal/authority/settlements",
            "/portal/authority/settlements?status=approved",
            f"/portal/authority/settlements/{settlement.id}",
            "/portal/authority/reconciliations",
            f"/portal/authority/reconciliations/{report.id}",
            "/portal/authority/ledger",
        ],
        auditor: ["/portal/authority/ledger", "/portal/authority/settlements"],
        owner: ["/portal/enterprise"],
    }
    timings = {url: await best_of_three(b, url) for b, urls in pages.items() for url in urls}
    slow = {url: ms for url, ms in timings.items() if ms > BUDGET_MS}
    assert not slow, f"pages over {BUDGET_MS} ms: {slow}"
    print("\nmoney page server times on the demo (ms):")
    for url, ms in sorted(timings.items(), key=lambda item: -item[1]):
        print(f"  {ms:7.1f}  {url}")
