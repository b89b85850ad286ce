"""The idempotency layer on real routes that opted in: settlement approval and voucher freeze."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import audit_events, auth_headers, create_user
from tests.programs.factories import create_provider, create_voucher
from tests.settlements.api import generate
from tests.settlements.factories import capture
from voucher_service.db import Database
from voucher_service.users.models import Role


async def test_settlement_approval_retried_with_its_key_is_approved_once(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    finance = await auth_headers(app, session, await create_user(session, role=Role.finance))
    providers = [await create_provider(session) for _ in range(2)]
    voucher = await create_voucher(session, amount=1_000_00, provider=providers[0])
    for provider in providers:
        await capture(session, voucher, provider.id, 10_00)
    one, other = [s["id"] for s in await generate(client, finance, voucher)]
    keyed = finance | {"Idempotency-Key": str(uuid.uuid4())}

    first = await client.post(f"/v1/admin/settlements/{one}/approve", headers=keyed)
    again = await client.post(f"/v1/admin/settlements/{one}/approve", headers=keyed)
    assert first.status_code == again.status_code == 200, again.text
    assert first.json()["status"] == "approved" and again.json() == first.json()
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert len(await audit_events(database, "settlement.approved")) == 1

    reused = await client.post(f"/v1/admin/settlements/{other}/approve", headers=keyed)
    assert (reused.status_code, reused.json()["code"]) == (422, "idempotency_key_reused")
    unkeyed = await client.get(f"/v1/admin/settlements/{other}", headers=finance)
    assert unkeyed.json()["status"] == "draft"  # the reused key changed nothing


async def test_a_freeze_retried_with_its_key_replays_and_a_new_reason_is_refused(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    admin = await auth_headers(app, session, await create_user(session, role=Role.program_admin))
    voucher = await create_voucher(session, amount=100_00)
    url = f"/v1/admin/vouchers/{voucher.id}/freeze"
    keyed = admin | {"Idempotency-Key": "freeze-1"}

    first = await client.post(url, json={"reason": "under review"}, headers=keyed)
    again = await client.post(url, json={"reason": "under review"}, headers=keyed)
    assert first.status_code == again.status_code == 200, again.text
    assert again.json() == first.json() and first.json()["state"] == "frozen"
    assert again.headers["idempotent-replayed"] == "true"
    assert len(await audit_events(database, "voucher.frozen")) == 1

    reused = await client.post(url, json={"reason": "another reason"}, headers=keyed)
    assert (reused.status_code, reused.json()["code"]) == (422, "idempotency_key_reused")
    # Without the key, a second freeze is a real second request: refused, as it was before.
    unkeyed = await client.post(url, json={"reason": "under review"}, headers=admin)
    assert unkeyed.status_code == 409, unkeyed.text
