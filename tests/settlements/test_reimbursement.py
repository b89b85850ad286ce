"""Reimbursement programmes end to end through the API: claims filed and approved → one
settlement to the enterprise, generated, approved, paid at once (no provider confirmation: each
claim was approved on its invoice) → the ledger balances and the programme's figures add up."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

import ledger
from tests.applications.helpers import authority_people
from tests.claims.test_claims import claim_form, file_claim, holder_with_voucher
from tests.factories import auth_headers, create_user
from tests.settlements.api import generate
from voucher_service.programs import service as programs
from voucher_service.users.models import Role


async def decided(
    client: httpx.AsyncClient, reviewer: dict[str, str], claim: dict, decision: dict
) -> None:
    url = f"/v1/admin/claims/{claim['id']}/decisions"
    answer = await client.post(url, json=decision, headers=reviewer)
    assert answer.status_code == 200, answer.text


async def test_approved_claims_are_settled_to_the_enterprise(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    voucher, holder = await holder_with_voucher(app, session)  # 50,000.00 at 30 %
    (reviewer,) = await authority_people(app, session, 1)
    finance = await auth_headers(app, session, await create_user(session, role=Role.finance))
    claims = []
    for paid in (10_000_00, 20_000_00, 5_000_00):
        filed = await file_claim(client, holder, claim_form(voucher, paid_amount=str(paid)))
        assert filed.status_code == 201, filed.text
        claims.append(filed.json())
    await decided(client, reviewer, claims[0], {"decision": "approve"})  # 3,000.00
    lower = {"decision": "approve", "amount": 5_000_00, "reason": "一张发票不符"}
    await decided(client, reviewer, claims[1], lower)  # 5,000.00 of 6,000.00
    await decided(client, reviewer, claims[2], {"decision": "reject", "reason": "发票重复"})

    [settlement] = await generate(client, finance, voucher)
    assert (settlement["payee_kind"], settlement["payee_id"]) == (
        "enterprise",
        str(voucher.holder_id),
    )
    assert (settlement["item_count"], settlement["net_amount"]) == (2, 8_000_00)
    url = f"/v1/admin/settlements/{settlement['id']}"
    items = (await client.get(f"{url}/items", headers=finance)).json()["items"]
    assert sorted((i["kind"], i["amount"]) for i in items) == [
        ("claim", 3_000_00),
        ("claim", 5_000_00),
    ]
    assert {i["claim_id"] for i in items} == {claims[0]["id"], claims[1]["id"]}  # what each pays
    approved = await client.post(f"{url}/approve", headers=finance)
    assert (approved.json()["status"], approved.json()["respond_by"]) == ("approved", None)
    paid = await client.post(f"{url}/pay", json={"bank_reference": "拨付-1"}, headers=finance)
    assert (paid.status_code, paid.json()["status"]) == (200, "paid"), paid.text
    assert await generate(client, finance, voucher) == []  # every approved claim is settled

    # The enterprise reads what it was paid, each item with its claim; another one sees nothing.
    mine = (await client.get("/v1/settlements", headers=holder)).json()["items"]
    assert [(m["id"], m["status"], m["net_amount"]) for m in mine] == [
        (settlement["id"], "paid", 8_000_00)
    ]
    its_items = await client.get(f"/v1/settlements/{settlement['id']}/items", headers=holder)
    assert {i["claim_id"] for i in its_items.json()["items"]} == {claims[0]["id"], claims[1]["id"]}
    _other_voucher, stranger = await holder_with_voucher(app, session)
    assert (await client.get("/v1/settlements", headers=stranger)).json()["items"] == []
    hidden = await client.get(f"/v1/settlements/{settlement['id']}", headers=stranger)
    assert hidden.status_code == 404

    assert (await ledger.trial_balance(session)).balanced
    payable = await ledger.get_account(session, f"enterprise:{voucher.holder_id}:payable")
    assert (await ledger.balance(session, payable.id)).posted == 0
    program = await programs.get_program(session, voucher.program_id)
    figures = await programs.figures(session, program)
    assert figures.spent == figures.paid_out == 8_000_00
    assert figures.outstanding == 50_000_00 - 8_000_00
    assert figures.committed == figures.returned + figures.spent + figures.outstanding
    assert figures.available == figures.budget - figures.committed + figures.returned
