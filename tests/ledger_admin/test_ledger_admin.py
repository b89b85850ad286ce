"""Ledger health: the aggregated trial balance agrees with the ledger's own, hot-account deltas
included; verify runs are stored and shown with the last checkpoint; statements page by keyset."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

import ledger
from tests.factories import auth_headers, create_user
from tests.programs.factories import create_provider, create_voucher
from tests.settlements.factories import capture
from voucher_service.ledger_admin import service
from voucher_service.ledger_admin.schemas import BalancePublic
from voucher_service.users.models import Role


async def test_trial_balance_health_verify_and_statement(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    provider = await create_provider(session)
    voucher = await create_voucher(session, amount=1_000_00, provider=provider)
    for amount in (1_00, 2_00, 3_00):
        await capture(session, voucher, provider.id, amount)  # credits a hot payable: deltas
    ours = await service.trial_balance(session)
    theirs = await ledger.trial_balance(session)
    assert ours.balanced and ours.total == BalancePublic.of(theirs.total)
    assert ours.groups["provider"].credits_posted == 6_00
    headers = await auth_headers(app, session, await create_user(session, role=Role.auditor))
    run = (await client.post("/v1/admin/ledger/verify", headers=headers)).json()
    assert run["ok"] is True
    health = (await client.get("/v1/admin/ledger/health", headers=headers)).json()
    assert health["balanced"] and health["last_verify"]["id"] == run["id"]
    code = f"provider:{provider.id}:payable"
    account = (await ledger.get_accounts(session, [code]))[code]
    url = f"/v1/admin/ledger/accounts/{account.id}/statement"
    first = (await client.get(url, params={"limit": 2}, headers=headers)).json()
    assert [line["amount"] for line in first["items"]] == [3_00, 2_00]
    rest = await client.get(
        url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers
    )
    assert [line["amount"] for line in rest.json()["items"]] == [1_00]
    listed = await client.get(
        "/v1/admin/ledger/accounts", params={"code_prefix": "provider:"}, headers=headers
    )
    assert [item["code"] for item in listed.json()["items"]] == [code]
