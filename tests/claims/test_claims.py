"""Reimbursement claims: covered amount by the rules, unique invoices, approval through the
ledger (voucher → enterprise payable), never above the rules, lower only with a reason."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

import ledger
from tests.applications.helpers import JPEG, PDF, PNG, authority_people, enterprise_user
from tests.factories import audit_events
from tests.programs.factories import create_provider, create_voucher
from voucher_service.db import Database
from voucher_service.organisations.models import Organisation
from voucher_service.vouchers import service as vouchers
from voucher_service.vouchers.models import Voucher

PROOFS = {
    "invoice": ("invoice.pdf", PDF, "application/pdf"),
    "payment": ("payment.png", PNG, "image/png"),
    "delivery": ("usage.jpg", JPEG, "image/jpeg"),
}


async def holder_with_voucher(
    app: FastAPI, session: AsyncSession, **program: Any
) -> tuple[Voucher, dict[str, str]]:
    enterprise, headers = await enterprise_user(app, session)
    holder = await session.get(Organisation, enterprise.id)
    provider = await create_provider(session)
    voucher = await create_voucher(
        session,
        amount=50_000_00,
        holder=holder,
        provider=provider,
        mode="reimbursement",
        rate_bp=3000,
        **program,
    )
    return voucher, headers


def claim_form(voucher: Voucher, **overrides: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "voucher_id": str(voucher.id),
        "invoice_number": f"INV-{uuid.uuid4().hex[:8]}",
        "paid_amount": "100000_00".replace("_", ""),
        "period_from_on": "2026-01-01",
        "period_until_on": "2026-03-01",
    }
    form.update(overrides)
    return form


async def file_claim(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    form: dict[str, Any],
    proofs: dict[str, tuple[str, bytes, str]] = PROOFS,
) -> httpx.Response:
    return await client.post("/v1/claims", data=form, files=proofs, headers=headers)


async def test_claim_approved_moves_money_to_the_enterprise(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    voucher, headers = await holder_with_voucher(app, session)
    filed = await file_claim(client, headers, claim_form(voucher))
    assert filed.status_code == 201, filed.text
    claim = filed.json()
    # 30 % of 100,000 CNY paid = 30,000 CNY, within the voucher's 50,000.
    assert claim["eligible_amount"] == 30_000_00 and claim["state"] == "submitted"
    assert sorted(a["kind"] for a in claim["attachments"]) == ["delivery", "invoice", "payment"]
    (reviewer,) = await authority_people(app, session, 1)
    url = f"/v1/admin/claims/{claim['id']}/decisions"
    above = await client.post(
        url, json={"decision": "approve", "amount": 30_000_01}, headers=reviewer
    )
    assert above.status_code == 422 and above.json()["code"] == "amount_above_eligible"
    lower = await client.post(
        url, json={"decision": "approve", "amount": 25_000_00}, headers=reviewer
    )
    assert lower.status_code == 422 and lower.json()["code"] == "reason_required"
    approved = await client.post(
        url,
        json={"decision": "approve", "amount": 25_000_00, "reason": "部分发票不符合"},
        headers=reviewer,
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["approved_amount"] == 25_000_00
    assert (await vouchers.balance_of(session, voucher)).available == 25_000_00
    payable = await ledger.get_account(
        session, ledger.chart.enterprise_payable(voucher.holder_id).code
    )
    assert (await ledger.balance(session, payable.id)).credits_posted == 25_000_00
    assert (await ledger.trial_balance(session)).balanced
    await session.commit()  # end the read: on SQLite the session's transaction writes
    twice = await client.post(url, json={"decision": "approve"}, headers=reviewer)
    assert twice.status_code == 409 and twice.json()["code"] == "claim_state_conflict"
    assert len(await audit_events(database, "claim.approved")) == 1
    mine = await client.get(f"/v1/claims/{claim['id']}", headers=headers)
    assert mine.json()["state"] == "approved"


async def test_covered_amount_is_capped_by_the_voucher_balance(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    voucher, headers = await holder_with_voucher(app, session)
    filed = await file_claim(client, headers, claim_form(voucher, paid_amount="1000000000"))
    assert filed.json()["eligible_amount"] == 50_000_00
    assert filed.json()["eligibility"]["voucher_balance"] == 50_000_00


async def test_an_invoice_is_claimed_once_per_programme(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    voucher, headers = await holder_with_voucher(app, session)
    form = claim_form(voucher, paid_amount="1000000")
    assert (await file_claim(client, headers, form)).status_code == 201
    again = await file_claim(client, headers, form)
    assert again.status_code == 409 and again.json()["code"] == "invoice_already_claimed"


async def test_a_claim_retried_with_its_idempotency_key_is_filed_once(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """A multipart upload with a key: the key's fingerprint reads the body FastAPI parsed (this
    was a 500, "Stream consumed"); the retry, byte for byte the same, gets the first answer."""
    voucher, headers = await holder_with_voucher(app, session)
    keyed = headers | {
        "Idempotency-Key": "claim-1",
        "Content-Type": "multipart/form-data; boundary=fixed-boundary-for-the-retry",
    }
    form = claim_form(voucher)
    first = await file_claim(client, keyed, form)
    assert first.status_code == 201, first.text
    again = await file_claim(client, keyed, form)
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    mine = await client.get("/v1/claims", headers=headers)
    assert [claim["id"] for claim in mine.json()["items"]] == [first.json()["id"]]


async def test_reject_needs_a_reason(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    voucher, headers = await holder_with_voucher(app, session)
    claim = (await file_claim(client, headers, claim_form(voucher))).json()
    (reviewer,) = await authority_people(app, session, 1)
    url = f"/v1/admin/claims/{claim['id']}/decisions"
    assert (await client.post(url, json={"decision": "reject"}, headers=reviewer)).json()[
        "code"
    ] == "reason_required"
    rejected = await client.post(
        url, json={"decision": "reject", "reason": "发票为假"}, headers=reviewer
    )
    assert rejected.json()["state"] == "rejected"
    assert (await vouchers.balance_of(session, voucher)).available == 50_000_00
    await session.commit()


@pytest.mark.parametrize(
    ("proofs", "code"),
    [
        ({**PROOFS, "invoice": ("invoice.pdf", PNG, "image/png")}, "attachment_type_mismatch"),
        ({**PROOFS, "payment": ("p.png", b"", "image/png")}, "attachment_empty"),
        ({**PROOFS, "delivery": ("../../x.jpg", JPEG, "image/jpeg")}, "attachment_name_invalid"),
    ],
)
async def test_bad_proofs_are_refused_before_anything_is_stored(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    proofs: dict[str, tuple[str, bytes, str]],
    code: str,
) -> None:
    voucher, headers = await holder_with_voucher(app, session)
    response = await file_claim(client, headers, claim_form(voucher), proofs)
    assert response.json()["code"] == code
    assert not (app.state.settings.data_dir / "attachments").exists()
    assert (await client.get("/v1/claims", headers=headers)).json()["items"] == []


async def test_only_the_holder_and_only_reimbursement_vouchers(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    voucher, _headers = await holder_with_voucher(app, session)
    _other, stranger = await enterprise_user(app, session)
    response = await file_claim(client, stranger, claim_form(voucher))
    assert response.status_code == 404
    enterprise, headers = await enterprise_user(app, session)
    holder = await session.get(Organisation, enterprise.id)
    at_sale = await create_voucher(session, amount=1_000_00, holder=holder)
    refused = await file_claim(client, headers, claim_form(at_sale))
    assert refused.status_code == 409 and refused.json()["code"] == "voucher_not_claimable"


async def test_period_outside_the_programme_covers_nothing(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    voucher, headers = await holder_with_voucher(
        app, session, eligible_from_on=date(2025, 1, 1), eligible_until_on=date(2025, 12, 31)
    )
    response = await file_claim(client, headers, claim_form(voucher))
    assert response.status_code == 422 and response.json()["code"] == "nothing_covered"
