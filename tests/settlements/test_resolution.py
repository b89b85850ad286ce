"""A disputed settlement resolved by finance: upheld (approved again, payable at once) or
cancelled (its items released, so generating the period again takes them)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

import ledger
from providers.webhooks.models import WebhookEvent
from tests.factories import audit_events, auth_headers, create_user
from tests.settlements.api import generate, setup
from tests.settlements.factories import capture, refund
from voucher_service.db import Database
from voucher_service.organisations.models import Organisation
from voucher_service.users.models import Role
from voucher_service.vouchers.models import Voucher


@dataclass
class Scene:
    provider: Organisation
    voucher: Voucher
    finance: dict[str, str]
    operator: dict[str, str]


async def scene(app: FastAPI, session: AsyncSession, *captures: int) -> Scene:
    """A provider with these captures on a voucher, a finance officer, the provider's operator."""
    provider, voucher = await setup(session)
    for amount in captures:
        await capture(session, voucher, provider.id, amount)
    finance = await auth_headers(app, session, await create_user(session, role=Role.finance))
    operator = await create_user(session, organisation=provider, role=Role.operator)
    return Scene(provider, voucher, finance, await auth_headers(app, session, operator))


async def disputed(client: httpx.AsyncClient, it: Scene) -> str:
    """A settlement generated, approved and disputed by its payee: its id."""
    finance, operator = it.finance, it.operator
    [settlement] = await generate(client, finance, it.voucher)
    await client.post(f"/v1/admin/settlements/{settlement['id']}/approve", headers=finance)
    mine = f"/v1/provider/settlements/{settlement['id']}/dispute"
    answer = await client.post(mine, json={"reason": "one order was refunded"}, headers=operator)
    assert answer.json()["status"] == "disputed", answer.text
    return str(settlement["id"])


async def resolve(
    client: httpx.AsyncClient, finance: dict[str, str], settlement_id: str, resolution: str
) -> httpx.Response:
    return await client.post(
        f"/v1/admin/settlements/{settlement_id}/resolve",
        json={"resolution": resolution, "comment": "checked against the orders"},
        headers=finance,
    )


async def events_of(session: AsyncSession, event_type: str) -> list[dict]:
    rows = await session.scalars(
        select(WebhookEvent)
        .where(col(WebhookEvent.event_type) == event_type)
        .order_by(col(WebhookEvent.id))
    )
    return [json.loads(row.payload)["data"] for row in rows]


async def test_upheld_dispute_is_payable_at_once_and_cannot_be_disputed_again(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    it = await scene(app, session, 40_00)
    provider, finance, operator = it.provider, it.finance, it.operator
    settlement_id = await disputed(client, it)

    upheld = await resolve(client, finance, settlement_id, "uphold")
    assert upheld.status_code == 200, upheld.text
    assert upheld.json()["status"] == "approved"
    assert upheld.json()["resolution_comment"] == "checked against the orders"
    assert upheld.json()["resolved_by_id"] is not None
    mine = f"/v1/provider/settlements/{settlement_id}"
    again = await client.post(f"{mine}/dispute", json={"reason": "still no"}, headers=operator)
    assert (again.status_code, again.json()["code"]) == (409, "settlement_state_conflict")
    twice = await resolve(client, finance, settlement_id, "cancel")
    assert (twice.status_code, twice.json()["code"]) == (409, "settlement_state_conflict")

    url = f"/v1/admin/settlements/{settlement_id}/pay"
    paid = await client.post(url, json={"bank_reference": "B-7"}, headers=finance)
    assert (paid.status_code, paid.json()["status"]) == (200, "paid"), paid.text
    [event] = await audit_events(database, "settlement.upheld")
    assert event.reason == "checked against the orders"
    assert [
        (e["status"], e["total_amount"]) for e in await events_of(session, "settlement.resolved")
    ] == [("approved", 40_00)]
    payable = await ledger.get_account(session, f"provider:{provider.id}:payable")
    assert (await ledger.balance(session, payable.id)).posted == 0


async def test_cancelled_dispute_releases_its_items_to_the_next_generation(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    it = await scene(app, session, 40_00, 60_00)
    provider, voucher, finance = it.provider, it.voucher, it.finance
    settlement_id = await disputed(client, it)

    cancelled = await resolve(client, finance, settlement_id, "cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["net_amount"]) == ("cancelled", 100_00)
    url = f"/v1/admin/settlements/{settlement_id}"
    assert (await client.get(f"{url}/items", headers=finance)).json()["items"] == []
    unpaid = await client.post(f"{url}/pay", json={"bank_reference": "B"}, headers=finance)
    assert unpaid.status_code == 409
    assert len(await audit_events(database, "settlement.cancelled")) == 1
    [sent] = await events_of(session, "settlement.resolved")
    assert sent["status"] == "cancelled"

    # The correction the dispute asked for, then the same period again: the items come back.
    await refund(session, voucher, provider.id, 60_00, paid_out=False)
    [again] = await generate(client, finance, voucher)
    assert again["id"] != settlement_id
    assert (again["item_count"], again["net_amount"]) == (3, 40_00)
    listed = await client.get(
        "/v1/admin/settlements", params={"status": "cancelled"}, headers=finance
    )
    assert [s["id"] for s in listed.json()["items"]] == [settlement_id]


async def test_only_a_disputed_settlement_is_resolved_and_a_comment_is_required(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    it = await scene(app, session, 10_00)
    finance = it.finance
    [draft] = await generate(client, finance, it.voucher)
    refused = await resolve(client, finance, draft["id"], "uphold")
    assert (refused.status_code, refused.json()["code"]) == (409, "settlement_state_conflict")
    url = f"/v1/admin/settlements/{draft['id']}/resolve"
    for body in ({"resolution": "uphold"}, {"resolution": "redo", "comment": "x"}):
        invalid = await client.post(url, json=body, headers=finance)
        assert invalid.status_code == 422, invalid.text
    program_admin = await create_user(session, role=Role.program_admin)
    other = await client.post(
        url,
        json={"resolution": "cancel", "comment": "x"},
        headers=await auth_headers(app, session, program_admin),
    )
    assert other.status_code == 403
