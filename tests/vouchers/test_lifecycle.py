"""A voucher's life: freeze, unfreeze, revoke, expiry (never early), redeemability, the cap."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

import ledger
from ledger.sqltypes import utcnow
from providers.registry import service as registry
from providers.webhooks.models import WebhookEvent
from tests.factories import create_organisation
from tests.programs.factories import (
    FACTORY,
    create_program,
    create_provider,
    create_voucher,
    headers_for,
)
from voucher_service.db import Database
from voucher_service.organisations.models import OrganisationKind
from voucher_service.programs import service as programs
from voucher_service.users.models import Role
from voucher_service.vouchers import jobs
from voucher_service.vouchers import service as vouchers
from voucher_service.vouchers.errors import InvalidVoucherCodeProblem
from voucher_service.vouchers.models import Voucher


async def events(session: AsyncSession, event_type: str) -> list[dict[str, object]]:
    rows = await session.scalars(select(WebhookEvent).where(WebhookEvent.event_type == event_type))
    return [json.loads(row.payload)["data"] for row in rows]


@pytest.fixture
async def admin(app: FastAPI, session: AsyncSession) -> dict[str, str]:
    return await headers_for(app, session, Role.program_admin)


async def test_freeze_unfreeze_revoke_through_the_api(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    voucher = await create_voucher(session, amount=500_00)
    provider_id = (await vouchers.bound_provider_ids(session, voucher.id))[0]
    await session.commit()  # end the read: on SQLite a session's transaction holds the lock
    url = f"/v1/admin/vouchers/{voucher.id}"
    no_reason = await client.post(url + "/freeze", json={}, headers=admin)
    assert no_reason.status_code == 422
    frozen = await client.post(url + "/freeze", json={"reason": "under review"}, headers=admin)
    assert (frozen.json()["state"], frozen.json()["state_reason"]) == ("frozen", "under review")
    assert not await vouchers.may_redeem(session, await _fresh(session, voucher), provider_id)
    await session.commit()
    twice = await client.post(url + "/freeze", json={"reason": "again"}, headers=admin)
    assert (twice.status_code, twice.json()["code"]) == (409, "voucher_state_conflict")
    unfrozen = await client.post(url + "/unfreeze", json={"reason": "cleared"}, headers=admin)
    assert unfrozen.json()["state"] == "active"
    assert await vouchers.may_redeem(session, await _fresh(session, voucher), provider_id)
    await session.commit()

    revoked = await client.post(url + "/revoke", json={"reason": "fraud"}, headers=admin)
    assert (revoked.json()["state"], revoked.json()["available_amount"]) == ("revoked", 0)
    program = await programs.get_program(session, voucher.program_id)
    assert await programs.remaining_budget(session, program) == 500_00
    figures = await programs.figures(session, program)
    assert (figures.committed, figures.returned, figures.outstanding) == (500_00, 500_00, 0)
    await session.commit()
    again = await client.post(url + "/revoke", json={"reason": "fraud"}, headers=admin)
    assert again.status_code == 409
    kinds = [row.event_type for row in await session.scalars(select(WebhookEvent))]
    assert kinds == ["voucher.bound", "voucher.frozen", "voucher.unfrozen", "voucher.revoked"]
    assert (await events(session, "voucher.revoked"))[0]["reason"] == "fraud"


async def _fresh(session: AsyncSession, voucher: Voucher) -> Voucher:
    found = await vouchers.get_voucher(session, voucher.id, for_update=False)
    assert found is not None
    await session.refresh(found)
    return found


async def test_revoke_keeps_held_value_on_the_voucher(session: AsyncSession) -> None:
    from voucher_service.vouchers import lifecycle

    provider = await create_provider(session)
    voucher = await create_voucher(session, amount=100_00, provider=provider)
    specs = [ledger.chart.voucher(voucher.id), ledger.chart.provider_payable(provider.id)]
    accounts = await ledger.open_accounts(session, specs)
    held = ledger.Transfer(accounts[specs[0].code], accounts[specs[1].code], 30_00)
    (await ledger.hold(session, "hold:1", held, timeout=timedelta(minutes=5))).unwrap()
    await lifecycle.revoke(session, voucher, reason="contract cancelled", actor=FACTORY)
    await session.commit()
    assert await vouchers.balance_of(session, voucher) == vouchers.Balance(0, 30_00)
    program = await programs.get_program(session, voucher.program_id)
    assert await programs.remaining_budget(session, program) == 70_00


async def test_expiry_is_never_early_and_returns_the_remainder(
    session: AsyncSession, database: Database
) -> None:
    provider = await create_provider(session)
    program = await create_program(session, providers=[provider], budget=300_00)
    due = await create_voucher(session, amount=100_00, program=program, provider=provider)
    soon = await create_voucher(session, amount=100_00, program=program, provider=provider)
    later = await create_voucher(session, amount=100_00, program=program, provider=provider)
    now = utcnow()
    for voucher, until in ((due, now - timedelta(seconds=1)), (soon, now + timedelta(seconds=30))):
        await session.execute(
            update(Voucher)
            .where(Voucher.id == voucher.id)  # type: ignore[arg-type]
            .values(valid_from=now - timedelta(days=1), valid_until=until)
        )
    await session.commit()

    assert await jobs.expire_due(database) == 1
    assert await jobs.expire_due(database) == 0  # nothing else is due; nothing twice
    states = {v.id: (await _fresh(session, v)).state for v in (due, soon, later)}
    assert states == {due.id: "expired", soon.id: "active", later.id: "active"}
    assert await programs.remaining_budget(session, program) == 100_00
    assert not await vouchers.may_redeem(session, await _fresh(session, due), provider.id)
    expired = await events(session, "voucher.expired")
    assert [(e["voucher_id"], e["status"], e["balance_amount"]) for e in expired] == [
        (str(due.id), "expired", 0)
    ]
    # Past valid_until but not yet swept by the job: still refused, by the database clock.
    await session.execute(
        update(Voucher)
        .where(Voucher.id == soon.id)  # type: ignore[arg-type]
        .values(valid_until=utcnow() - timedelta(milliseconds=1))
    )
    await session.commit()
    reason = await vouchers.redeemability(session, await _fresh(session, soon), provider.id)
    assert reason == "voucher_expired"


async def test_redeemability_reasons(session: AsyncSession) -> None:
    provider = await create_provider(session, services=["model"])
    compute_only = await create_provider(session, services=["compute"])
    voucher = await create_voucher(session, provider=provider, kind="model")
    assert await vouchers.redeemability(session, voucher, provider.id) is None
    assert await vouchers.redeemability(session, voucher, compute_only.id) == "provider_not_bound"
    await registry.suspend(session, provider.id, reason="audit")
    await session.commit()
    assert await vouchers.redeemability(session, voucher, provider.id) == "provider_suspended"
    await registry.reinstate(session, provider.id, reason="ok")
    await registry.update_details(session, provider.id, services=["compute"])
    await session.commit()
    assert await vouchers.redeemability(session, voucher, provider.id) == "voucher_wrong_kind"
    claim = await create_voucher(session, mode="reimbursement")
    claim_provider = (await vouchers.bound_provider_ids(session, claim.id))[0]
    reason = await vouchers.redeemability(session, claim, claim_provider)
    assert reason == "voucher_not_redeemable"


async def test_lookup_by_code_normalises_and_refuses_typos(session: AsyncSession) -> None:
    voucher = await create_voucher(session)
    typed = "-".join(voucher.code[i : i + 4] for i in range(0, 13, 4)).lower()
    found = await vouchers.lookup_by_code(session, typed)
    assert found is not None and found.id == voucher.id
    wrong = voucher.code[:-1] + ("0" if voucher.code[-1] != "0" else "1")
    with pytest.raises(InvalidVoucherCodeProblem):
        await vouchers.lookup_by_code(session, wrong)
    other = "0000000000000"
    other = other[:-1] + vouchers.codes.check_character(other[:-1])
    assert await vouchers.lookup_by_code(session, other) is None


async def test_awarded_this_year_reads_the_ledger_net_of_returns(session: AsyncSession) -> None:
    from voucher_service.vouchers import lifecycle

    holder = await create_organisation(session, kind=OrganisationKind.enterprise)
    provider = await create_provider(session)
    this_year = await create_program(session, providers=[provider], budget=1_000_00)
    year = this_year.fiscal_year
    other_kind = await create_program(session, providers=[provider], budget=1_000_00, kind="model")
    last_year = await create_program(
        session, providers=[provider], budget=1_000_00, fiscal_year=year - 1
    )
    for program, amount in (
        (this_year, 300_00),
        (this_year, 200_00),
        (other_kind, 400_00),
        (last_year, 500_00),
    ):
        await create_voucher(
            session, amount=amount, program=program, holder=holder, provider=provider
        )
    assert await vouchers.awarded_this_year(session, holder.id, "compute", year) == 500_00
    assert await vouchers.awarded_this_year(session, holder.id, "model", year) == 400_00
    assert await vouchers.awarded_this_year(session, holder.id, "compute", year - 1) == 500_00
    revoked = (
        await session.scalars(
            select(Voucher).where(Voucher.issued_amount == 200_00)  # type: ignore[arg-type]
        )
    ).one()
    await lifecycle.revoke(session, revoked, reason="withdrawn", actor=FACTORY)
    await session.commit()
    assert await vouchers.awarded_this_year(session, holder.id, "compute", year) == 300_00


async def test_admin_search(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    voucher = await create_voucher(session)
    await create_voucher(session)
    await session.commit()
    by_code = await client.get("/v1/admin/vouchers", params={"code": voucher.code}, headers=admin)
    assert [item["id"] for item in by_code.json()["items"]] == [str(voucher.id)]
    by_holder = await client.get(
        "/v1/admin/vouchers", params={"holder_id": str(voucher.holder_id)}, headers=admin
    )
    assert [item["id"] for item in by_holder.json()["items"]] == [str(voucher.id)]
    everything = await client.get("/v1/admin/vouchers", headers=admin)
    assert len(everything.json()["items"]) == 2
    typo = await client.get("/v1/admin/vouchers", params={"code": "ABC"}, headers=admin)
    assert (typo.status_code, typo.json()["code"]) == (422, "invalid_voucher_code")


async def test_value_released_after_revocation_returns_to_the_programme(
    session: AsyncSession, database: Database
) -> None:
    from voucher_service.vouchers import lifecycle

    provider = await create_provider(session)
    voucher = await create_voucher(session, amount=100_00, provider=provider)
    specs = [ledger.chart.voucher(voucher.id), ledger.chart.provider_payable(provider.id)]
    accounts = await ledger.open_accounts(session, specs)
    first = ledger.Transfer(accounts[specs[0].code], accounts[specs[1].code], 30_00)
    second = ledger.Transfer(accounts[specs[0].code], accounts[specs[1].code], 20_00)
    hold_a = (await ledger.hold(session, "h:a", first, timeout=timedelta(minutes=5))).unwrap()
    hold_b = (await ledger.hold(session, "h:b", second, timeout=timedelta(minutes=5))).unwrap()
    await lifecycle.revoke(session, voucher, reason="contract cancelled", actor=FACTORY)
    await session.commit()
    program = await programs.get_program(session, voucher.program_id)
    assert await programs.remaining_budget(session, program) == 50_00
    await session.commit()
    assert await jobs.return_late(database) == 0  # nothing released yet

    (await ledger.void(session, "v:a", hold_a.id)).unwrap()
    await session.commit()
    assert await jobs.return_late(database) == 1
    assert await jobs.return_late(database) == 0
    (await ledger.void(session, "v:b", hold_b.id)).unwrap()
    await session.commit()
    assert await jobs.return_late(database) == 1
    assert await programs.remaining_budget(session, program) == 100_00
    assert await vouchers.balance_of(session, voucher) == vouchers.Balance(0, 0)
    figures = await programs.figures(session, program)
    assert (figures.committed, figures.returned, figures.outstanding) == (100_00, 100_00, 0)


async def test_problems_speak_chinese_when_asked(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    voucher = await create_voucher(session)
    url = f"/v1/admin/vouchers/{voucher.id}"
    zh = admin | {"Accept-Language": "zh-CN"}
    await client.post(url + "/revoke", json={"reason": "撤销"}, headers=zh)
    refused = await client.post(url + "/freeze", json={"reason": "冻结"}, headers=zh)
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "voucher_state_conflict"
    assert body["title"] == "券当前状态不允许此操作"
    assert "revoked" in body["detail"] and body["state"] == "revoked"
    unknown = await client.post(
        "/v1/admin/vouchers/0193a1f6-3d4e-7f50-8162-738495061728/freeze",
        json={"reason": "x1"},
        headers=admin,
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
    not_uuid = await client.get("/v1/admin/vouchers/abc", headers=admin)
    assert (not_uuid.status_code, not_uuid.json()["code"]) == (422, "validation_error")
