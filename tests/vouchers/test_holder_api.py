"""The holder's view of its vouchers, and the providers it authorises or withdraws."""

from __future__ import annotations

import json

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import ledger
from providers.registry.models import ProviderState
from providers.webhooks.models import WebhookEvent
from tests.factories import create_organisation
from tests.programs.factories import create_program, create_provider, create_voucher, headers_for
from voucher_service.organisations.models import Organisation, OrganisationKind
from voucher_service.programs.models import Program, ProgramProvider
from voucher_service.users.models import Role
from voucher_service.vouchers import service as vouchers
from voucher_service.vouchers.models import Voucher


async def list_provider(session: AsyncSession, program: Program, provider: Organisation) -> None:
    session.add(ProgramProvider(program_id=program.id, provider_id=provider.id))
    await session.commit()


async def test_holder_lists_and_reads_only_its_own_vouchers(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    holder = await create_organisation(session, kind=OrganisationKind.enterprise)
    mine = await create_voucher(session, holder=holder, amount=800_00)
    theirs = await create_voucher(session, amount=100_00)
    member = await headers_for(app, session, Role.member, holder)

    listed = (await client.get("/v1/vouchers", headers=member)).json()["items"]
    assert [item["id"] for item in listed] == [str(mine.id)]
    detail = (await client.get(f"/v1/vouchers/{mine.id}", headers=member)).json()
    assert (detail["available_amount"], detail["on_hold_amount"]) == (800_00, 0)
    assert detail["code_display"].replace("-", "") == mine.code
    assert [p["source"] for p in detail["providers"]] == ["contract"]
    hidden = await client.get(f"/v1/vouchers/{theirs.id}", headers=member)
    missing = await client.get(f"/v1/vouchers/{mine.program_id}", headers=member)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"] == missing.json()["detail"]


async def test_transactions_are_every_movement_keyset_paginated(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    provider = await create_provider(session)
    voucher = await create_voucher(session, amount=1_000_00, provider=provider)
    specs = [ledger.chart.voucher(voucher.id), ledger.chart.provider_payable(provider.id)]
    accounts = await ledger.open_accounts(session, specs)
    for number in range(4):
        moved = ledger.Transfer(accounts[specs[0].code], accounts[specs[1].code], 10_00 + number)
        (await ledger.transfer(session, f"t:{number}", [moved], reference="redemption")).unwrap()
    await session.commit()
    owner = await headers_for(
        app, session, Role.owner, await session.get(Organisation, voucher.holder_id)
    )
    url = f"/v1/vouchers/{voucher.id}/transactions"
    seen: list[dict[str, object]] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(url, params=params, headers=owner)).json()
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [(m["direction"], m["amount"]) for m in seen] == [
        ("out", 10_03),
        ("out", 10_02),
        ("out", 10_01),
        ("out", 10_00),
        ("in", 1_000_00),
    ]
    bad = await client.get(url, params={"cursor": "not-a-cursor"}, headers=owner)
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_cursor")


async def test_holder_authorises_and_withdraws_providers(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    contract_provider = await create_provider(session)
    program = await create_program(
        session, providers=[contract_provider], budget=1_000_00, allow_holder_providers=True
    )
    voucher = await create_voucher(
        session, amount=1_000_00, program=program, provider=contract_provider
    )
    holder = await session.get(Organisation, voucher.holder_id)
    owner = await headers_for(app, session, Role.owner, holder)
    member = await headers_for(app, session, Role.member, holder)
    second = await create_provider(session)
    suspended = await create_provider(session, state=ProviderState.suspended)
    unlisted = await create_provider(session)
    await list_provider(session, program, second)
    await list_provider(session, program, suspended)
    url = f"/v1/vouchers/{voucher.id}/providers"

    async def authorise(provider: Organisation, headers: dict[str, str]) -> httpx.Response:
        return await client.post(url, json={"provider_id": str(provider.id)}, headers=headers)

    assert (await authorise(second, member)).status_code == 403
    not_listed = await authorise(unlisted, owner)
    assert (not_listed.status_code, not_listed.json()["code"]) == (422, "provider_not_eligible")
    refused = await authorise(suspended, owner)
    assert (refused.status_code, refused.json()["code"]) == (409, "provider_suspended")
    allowed = await authorise(second, owner)
    assert allowed.status_code == 200, allowed.text
    assert [p["provider_id"] for p in allowed.json()["providers"]] == [
        str(contract_provider.id),
        str(second.id),
    ]
    assert (await authorise(second, owner)).status_code == 200  # idempotent
    fresh = await vouchers.get_voucher(session, voucher.id)
    assert fresh is not None and await vouchers.may_redeem(session, fresh, second.id)
    await session.commit()

    withdrawn = await client.delete(f"{url}/{contract_provider.id}", headers=owner)
    assert withdrawn.status_code == 204
    again = await client.delete(f"{url}/{contract_provider.id}", headers=owner)
    assert again.status_code == 404
    assert not await vouchers.may_redeem(session, fresh, contract_provider.id)
    rows = (await session.scalars(select(WebhookEvent).order_by(WebhookEvent.id))).all()  # type: ignore[arg-type]
    sent = [(row.provider_id, row.event_type) for row in rows]
    assert sent == [
        (contract_provider.id, "voucher.bound"),
        (second.id, "voucher.bound"),
        (contract_provider.id, "voucher.frozen"),
    ]
    assert json.loads(rows[-1].payload)["data"]["reason"] == "authorisation withdrawn by the holder"


async def test_programme_may_forbid_holder_providers(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    voucher = await create_voucher(session)  # allow_holder_providers defaults to False
    program = await session.get(Program, voucher.program_id)
    assert program is not None
    other = await create_provider(session)
    await list_provider(session, program, other)
    owner = await headers_for(
        app, session, Role.owner, await session.get(Organisation, voucher.holder_id)
    )
    url = f"/v1/vouchers/{voucher.id}/providers"
    refused = await client.post(url, json={"provider_id": str(other.id)}, headers=owner)
    assert (refused.status_code, refused.json()["code"]) == (409, "holder_providers_not_allowed")
    revoked = await session.get(Voucher, voucher.id)
    assert revoked is not None
    assert await vouchers.bound_provider_ids(session, voucher.id) != [other.id]
