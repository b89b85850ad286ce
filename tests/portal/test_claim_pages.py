"""Reimbursement claims in the portal: the startup files a claim with its three proofs through the
claims service (rules, audit), follows it in its list and on its page, and downloads its proofs;
bad input and forged forms store nothing; another enterprise's claim is not found."""

from __future__ import annotations

import html
import re
import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from tests.applications.helpers import JPEG, PDF, PNG, authority_people
from tests.factories import create_organisation, create_user
from tests.portal.helpers import Browser, post_file, sign_in
from tests.programs.factories import create_provider, create_voucher
from voucher_service.applications.models import Attachment
from voucher_service.audit.models import AuditEvent
from voucher_service.claims.models import Claim
from voucher_service.organisations.models import Organisation, OrganisationKind
from voucher_service.users.models import Role
from voucher_service.vouchers.models import Voucher

NEW = "/portal/enterprise/claims/new"
PROOFS = {
    "invoice": ("invoice.pdf", PDF, "application/pdf"),
    "payment": ("payment.png", PNG, "image/png"),
    "delivery": ("usage.jpg", JPEG, "image/jpeg"),
}


async def holder(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> tuple[Organisation, Voucher, Browser]:
    """A startup holding a 50,000 CNY voucher of a 30 % reimbursement programme, signed in."""
    enterprise = await create_organisation(session, kind=OrganisationKind.enterprise)
    voucher = await create_voucher(
        session,
        amount=50_000_00,
        holder=enterprise,
        provider=await create_provider(session),
        mode="reimbursement",
        rate_bp=3000,
    )
    owner = await create_user(session, organisation=enterprise, role=Role.owner)
    return enterprise, voucher, await sign_in(app, client, session, owner)


def claim_form(voucher: Voucher, **overrides: str) -> dict[str, Any]:
    return {
        "voucher_id": str(voucher.id),
        "invoice_number": f"INV-{uuid.uuid4().hex[:8]}",
        "paid_amount": "100,000.00",
        "period_from_on": "2026-01-01",
        "period_until_on": "2026-03-01",
        **overrides,
    }


async def stored(session: AsyncSession, enterprise: Organisation) -> tuple[int, int]:
    """How many claims and claim proofs the enterprise has."""
    claims = await session.scalar(
        select(func.count()).where(col(Claim.enterprise_id) == enterprise.id)
    )
    proofs = await session.scalar(
        select(func.count()).where(
            col(Attachment.organisation_id) == enterprise.id, col(Attachment.claim_id).is_not(None)
        )
    )
    await session.commit()
    return int(claims or 0), int(proofs or 0)


async def test_a_claim_is_filed_with_its_proofs_and_shown(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    enterprise, voucher, browser = await holder(app, client, session)
    page = await browser.get(NEW)
    assert page.status_code == 200 and str(voucher.id) in page.text
    form = claim_form(voucher)
    filed = await post_file(browser, NEW, form, PROOFS)
    assert filed.status_code == 303, filed.text
    claim = await session.scalar(select(Claim).where(col(Claim.enterprise_id) == enterprise.id))
    assert claim is not None
    assert filed.headers["location"] == f"/portal/enterprise/claims/{claim.id}"
    # 30 % of 100,000 CNY paid, within the voucher's 50,000 CNY.
    assert (claim.paid_amount, claim.eligible_amount, claim.state) == (
        100_000_00,
        30_000_00,
        "submitted",
    )
    actions = await session.scalars(
        select(AuditEvent.action).where(col(AuditEvent.target_id) == str(claim.id))
    )
    assert list(actions), "filing a claim records an audit event"
    await session.commit()
    detail = await browser.get(filed.headers["location"])
    assert detail.status_code == 200
    assert form["invoice_number"] in detail.text and "30,000.00" in detail.text
    proofs = await session.scalars(select(Attachment).where(col(Attachment.claim_id) == claim.id))
    by_kind = {a.kind: a for a in proofs}
    await session.commit()
    assert sorted(by_kind) == ["delivery", "invoice", "payment"]
    link = f"/portal/enterprise/claims/{claim.id}/attachments/{by_kind['invoice'].id}"
    assert link in detail.text
    download = await browser.get(link)
    assert download.status_code == 200 and download.content == PDF
    listing = await browser.get("/portal/enterprise/claims")
    assert listing.status_code == 200
    assert f"/portal/enterprise/claims/{claim.id}" in listing.text
    assert "100,000.00" in listing.text and "30,000.00" in listing.text
    dashboard = await browser.get("/portal/enterprise")
    assert 'href="/portal/enterprise/claims"' in dashboard.text


@pytest.mark.parametrize(
    ("overrides", "proofs", "field"),
    [
        ({"paid_amount": "lots"}, PROOFS, "paid_amount"),
        ({"voucher_id": str(uuid.uuid4())}, PROOFS, "voucher_id"),
        ({"voucher_id": "not-a-voucher"}, PROOFS, "voucher_id"),
        ({"invoice_number": ""}, PROOFS, "invoice_number"),
        ({"period_until_on": "2025-12-01"}, PROOFS, "period_until_on"),
        ({}, {k: v for k, v in PROOFS.items() if k != "delivery"}, "delivery"),
        ({}, {**PROOFS, "payment": ("payment.exe", b"MZ\x90\x00", "image/png")}, None),
    ],
)
async def test_bad_input_is_refused_beside_the_field_and_nothing_is_stored(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    overrides: dict[str, str],
    proofs: dict[str, Any],
    field: str | None,
) -> None:
    enterprise, voucher, browser = await holder(app, client, session)
    refused = await post_file(browser, NEW, claim_form(voucher, **overrides), proofs)
    assert refused.status_code == 422, refused.text
    assert 'class="error-summary"' in refused.text
    if field is not None:  # beside the field; a file of the wrong type is named on top
        assert f'id="f-{field}-error"' in refused.text
    assert await stored(session, enterprise) == (0, 0)


async def test_an_invoice_claimed_twice_is_refused_beside_its_number(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    enterprise, voucher, browser = await holder(app, client, session)
    form = claim_form(voucher)
    assert (await post_file(browser, NEW, form, PROOFS)).status_code == 303
    again = await post_file(browser, NEW, form, PROOFS)
    assert again.status_code == 422
    assert 'id="f-invoice_number-error"' in again.text and "该发票号已在本项目中申报" in again.text
    assert await stored(session, enterprise) == (1, 3)


async def test_a_claim_without_its_csrf_token_is_refused(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    enterprise, voucher, browser = await holder(app, client, session)
    forged = await client.post(NEW, data=claim_form(voucher), files=PROOFS, headers=browser.headers)
    assert forged.status_code == 403
    assert await stored(session, enterprise) == (0, 0)


async def test_another_enterprises_claim_is_not_found(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, voucher, browser = await holder(app, client, session)
    assert (await post_file(browser, NEW, claim_form(voucher), PROOFS)).status_code == 303
    claim = await session.scalar(select(Claim).where(col(Claim.voucher_id) == voucher.id))
    proof = await session.scalar(select(Attachment).where(col(Attachment.claim_id) == claim.id))
    await session.commit()
    assert claim is not None and proof is not None
    _, _, stranger = await holder(app, client, session)
    for url in (
        f"/portal/enterprise/claims/{claim.id}",
        f"/portal/enterprise/claims/{claim.id}/attachments/{proof.id}",
    ):
        response = await stranger.get(url)
        assert response.status_code == 404, url
    listing = await stranger.get("/portal/enterprise/claims")
    assert str(claim.id) not in listing.text


async def test_the_review_shows_on_the_claims_page(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, voucher, browser = await holder(app, client, session)
    filed = await post_file(browser, NEW, claim_form(voucher), PROOFS)
    waiting = await browser.get(filed.headers["location"])
    assert "等待主管部门审核" in waiting.text
    (reviewer,) = await authority_people(app, session, 1)
    claim_id = filed.headers["location"].rsplit("/", 1)[-1]
    decided = await client.post(
        f"/v1/admin/claims/{claim_id}/decisions",
        json={"decision": "approve", "amount": 25_000_00, "reason": "部分发票不符合"},
        headers=reviewer,
    )
    assert decided.status_code == 200, decided.text
    page = await browser.get(filed.headers["location"])
    assert "部分发票不符合" in page.text and "25,000.00" in page.text
    assert "等待主管部门审核" not in page.text
    listing = await browser.get("/portal/enterprise/claims")
    assert "25,000.00" in listing.text


async def test_the_list_is_paged(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    enterprise, voucher, browser = await holder(app, client, session)
    author = await create_user(session, organisation=enterprise, role=Role.member)
    for number in range(51):
        session.add(
            Claim(
                program_id=voucher.program_id,
                voucher_id=voucher.id,
                enterprise_id=enterprise.id,
                created_by=author.id,
                invoice_number=f"PAGE-{number:03d}",
                paid_amount=1_000_00,
                period_from_on=date(2026, 1, 1),
                period_until_on=date(2026, 2, 1),
                eligible_amount=300_00,
                eligibility={},
            )
        )
    await session.commit()
    first = await browser.get("/portal/enterprise/claims")
    shown = set(re.findall(r"PAGE-\d{3}", first.text))
    assert len(shown) == 50
    (next_page,) = re.findall(r'href="([^"]+)" rel="next"', first.text)
    second = await browser.get(html.unescape(next_page))
    rest = set(re.findall(r"PAGE-\d{3}", second.text))
    assert len(rest) == 1 and not rest & shown


async def test_proofs_larger_than_an_ordinary_form_are_taken(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Three proofs together above the 1 MiB body limit of other forms, each within the
    attachment limit: the claim form takes what ``POST /v1/claims`` takes."""
    enterprise, voucher, browser = await holder(app, client, session)
    large = PDF.replace(b"%%EOF", b"%" + b"0" * 400_000 + b"\n%%EOF")
    proofs = {kind: (f"{kind}.pdf", large, "application/pdf") for kind in PROOFS}
    assert sum(len(content) for _, content, _ in proofs.values()) > 1_048_576
    filed = await post_file(browser, NEW, claim_form(voucher), proofs)
    assert filed.status_code == 303, filed.text
    assert await stored(session, enterprise) == (1, 3)
