"""The startup's voucher pages: dashboard cards, detail with movements and chart, providers."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import create_organisation, create_user
from tests.portal.helpers import sign_in
from tests.programs.factories import create_program, create_provider, create_voucher
from voucher_service.organisations.models import OrganisationKind
from voucher_service.users.models import Role
from voucher_service.vouchers.codes import display
from voucher_service.vouchers.models import VoucherProvider


async def test_the_dashboard_and_the_voucher_show_balance_movements_and_a_chart(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    enterprise = await create_organisation(session, kind=OrganisationKind.enterprise)
    owner = await create_user(session, organisation=enterprise, role=Role.owner)
    voucher = await create_voucher(session, holder=enterprise, amount=25_102_00)
    browser = await sign_in(app, client, session, owner)

    dashboard = await browser.get("/portal/enterprise")
    assert dashboard.status_code == 200
    assert "25,102.00" in dashboard.text and display(voucher.code) in dashboard.text

    page = await browser.get(f"/portal/enterprise/vouchers/{voucher.id}")
    assert page.status_code == 200
    assert 'role="img"' in page.text  # the chart, with its table of figures
    assert "25,102.00" in page.text
    assert "voucher-issue" in page.text or "issue" in page.text


async def test_an_owner_authorises_and_withdraws_a_provider(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    enterprise = await create_organisation(session, kind=OrganisationKind.enterprise)
    owner = await create_user(session, organisation=enterprise, role=Role.owner)
    member = await create_user(session, organisation=enterprise, role=Role.member)
    contracted, other = await create_provider(session), await create_provider(session)
    program = await create_program(
        session, providers=[contracted, other], budget=100_000_00, allow_holder_providers=True
    )
    voucher = await create_voucher(
        session, holder=enterprise, provider=contracted, program=program, amount=50_000_00
    )
    browser = await sign_in(app, client, session, owner)
    page = await browser.get(f"/portal/enterprise/vouchers/{voucher.id}")
    assert f'value="{other.id}"' in page.text
    added = await browser.post(
        f"/portal/enterprise/vouchers/{voucher.id}/providers", {"provider_id": str(other.id)}
    )
    assert added.status_code == 303
    withdrawn = await browser.post(
        f"/portal/enterprise/vouchers/{voucher.id}/providers/{other.id}/withdraw"
    )
    assert withdrawn.status_code == 303
    binding = await session.scalar(
        VoucherProvider.__table__.select().where(  # type: ignore[attr-defined]
            VoucherProvider.provider_id == other.id  # type: ignore[arg-type]
        )
    )
    await session.commit()
    assert binding is not None

    colleague = await sign_in(app, client, session, member)
    refused = await colleague.post(
        f"/portal/enterprise/vouchers/{voucher.id}/providers", {"provider_id": str(other.id)}
    )
    assert refused.status_code == 403


async def test_a_provider_sees_its_redemptions_and_figures(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    from voucher_service.redemptions.models import Redemption

    provider = await create_provider(session)
    operator = await create_user(session, organisation=provider, role=Role.operator)
    voucher = await create_voucher(session, provider=provider, amount=10_000_00)
    session.add(
        Redemption(
            provider_id=provider.id,
            voucher_id=voucher.id,
            program_id=voucher.program_id,
            enterprise_id=voucher.holder_id,
            order_id="INV-0001",
            voucher_code=voucher.code,
            bill_amount=3_000_00,
            rate_bp=3000,
            covered_amount=900_00,
            enterprise_payable_amount=2_100_00,
            status="authorized",
            authorization_transaction_id=voucher.id,
        )
    )
    await session.commit()
    browser = await sign_in(app, client, session, operator)
    page = await browser.get("/portal/provider/redemptions")
    assert page.status_code == 200
    assert "INV-0001" in page.text and "900.00" in page.text
