"""Every bad input has its own problem code, and none of them moves money."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.sqltypes import utcnow
from providers.registry.models import ProviderProfile, ProviderState
from tests.redemptions.factories import Seller, create_seller, redeem, redemption_body, voucher_for
from voucher_service.audit.service import AuditActor
from voucher_service.db import Database
from voucher_service.programs.models import PriceCeiling
from voucher_service.vouchers import codes, lifecycle
from voucher_service.vouchers import service as vouchers
from voucher_service.vouchers.models import Voucher, VoucherProvider

ADMIN = AuditActor.system("test")


async def transaction_count(database: Database) -> int:
    async with database.unit_of_work(readonly=True) as session:
        return int(await session.scalar(sa.text("SELECT count(*) FROM ledger_transaction")) or 0)


@pytest.fixture
async def moved(database: Database) -> Any:
    """Checks that a block of refusals wrote no ledger transaction at all."""
    before = await transaction_count(database)

    async def check() -> None:
        assert await transaction_count(database) == before

    return check


def wrong_check_character(code: str) -> str:
    last = code[-1]
    other = next(c for c in codes.ALPHABET if c != last)
    return code[:-1] + other


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"currency": "USD"}, "unsupported_currency"),
        ({"bill_amount": 0}, "invalid_amount"),
        ({"bill_amount": -100}, "invalid_amount"),
        ({"bill_amount": 10**15}, "amount_too_large"),
        ({"bill_amount": 1}, "nothing_to_cover"),
        ({"bill_amount": "100"}, "validation_error"),
        ({"bill_amount": 1.5}, "validation_error"),
        (
            {"usage": {"resource": "gpu_hour", "quantity": "0", "unit": "hour", "unit_price": 1}},
            "validation_error",
        ),
        (
            {"usage": {"resource": "gpu_hour", "quantity": "1", "unit": "hour", "unit_price": -1}},
            "invalid_amount",
        ),
        ({"surprise": True}, "validation_error"),
    ],
)
async def test_malformed_amounts_and_fields(
    client: httpx.AsyncClient,
    seller: Seller,
    voucher: Voucher,
    moved: Any,
    overrides: dict[str, Any],
    code: str,
) -> None:
    response = await redeem(client, seller, voucher, **overrides)
    assert response.status_code in (400, 422), response.text
    assert response.json()["code"] == code
    assert response.headers["content-type"] == "application/problem+json"
    await moved()


async def test_a_wrong_check_character_is_refused_before_any_lookup(
    client: httpx.AsyncClient, seller: Seller, voucher: Voucher, moved: Any
) -> None:
    bad = wrong_check_character(voucher.code)
    response = await redeem(client, seller, voucher, voucher_code=bad)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_voucher_code"
    lookup = await client.get(f"/v1/provider/vouchers/{bad}", headers=seller.headers)
    assert lookup.status_code == 422
    await moved()


async def test_unknown_and_unbound_vouchers_are_the_same_404(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    seller: Seller,
    voucher: Voucher,
    moved: Any,
) -> None:
    other = await create_seller(app, client, session)
    unknown = codes.generate()
    first = await redeem(client, seller, voucher, voucher_code=unknown)
    second = await redeem(client, other, voucher)
    assert first.status_code == second.status_code == 404
    assert first.json()["code"] == second.json()["code"] == "voucher_not_found"
    assert first.json()["detail"] == second.json()["detail"]
    await moved()


async def _state(session: AsyncSession, voucher: Voucher, action: str) -> None:
    found = await vouchers.get_voucher(session, voucher.id)
    assert found is not None
    if action == "freeze":
        await lifecycle.freeze(session, found, reason="test", actor=ADMIN)
    elif action == "revoke":
        await lifecycle.revoke(session, found, reason="test", actor=ADMIN)
    elif action == "expire":
        found.valid_until = utcnow() - timedelta(seconds=1)
        found.valid_from = utcnow() - timedelta(days=2)
    await session.commit()


@pytest.mark.parametrize(
    ("action", "code"),
    [("freeze", "voucher_frozen"), ("revoke", "voucher_revoked"), ("expire", "voucher_expired")],
)
async def test_vouchers_that_cannot_be_redeemed(
    client: httpx.AsyncClient,
    session: AsyncSession,
    seller: Seller,
    voucher: Voucher,
    database: Database,
    action: str,
    code: str,
) -> None:
    await _state(session, voucher, action)
    before = await transaction_count(database)
    response = await redeem(client, seller, voucher)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code
    assert await transaction_count(database) == before
    lookup = await client.get(f"/v1/provider/vouchers/{voucher.code}", headers=seller.headers)
    assert lookup.status_code == 200, lookup.text  # bound: answered, the status says why not
    assert lookup.json()["status"] == code.removeprefix("voucher_")


async def test_a_frozen_voucher_is_still_not_found_by_a_provider_not_bound_to_it(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, voucher: Voucher
) -> None:
    other = await create_seller(app, client, session)
    await _state(session, voucher, "freeze")
    lookup = await client.get(f"/v1/provider/vouchers/{voucher.code}", headers=other.headers)
    assert lookup.status_code == 404 and lookup.json()["code"] == "voucher_not_found"


async def test_an_exhausted_voucher_is_answered_with_its_status(
    client: httpx.AsyncClient, seller: Seller, voucher: Voucher
) -> None:
    looked_up = await client.get(f"/v1/provider/vouchers/{voucher.code}", headers=seller.headers)
    balance, rate_bp = looked_up.json()["balance"], looked_up.json()["rate_bp"]
    bill = -(-balance * 10_000 // rate_bp)  # a bill whose share is the whole balance
    used = await redeem(client, seller, voucher, bill_amount=bill)
    assert used.status_code == 201, used.text
    assert used.json()["voucher_balance"] == 0
    lookup = await client.get(f"/v1/provider/vouchers/{voucher.code}", headers=seller.headers)
    assert lookup.status_code == 200, lookup.text
    assert (lookup.json()["status"], lookup.json()["balance"]) == ("exhausted", 0)


async def test_a_voucher_of_a_kind_the_provider_does_not_sell(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, moved: Any
) -> None:
    seller = await create_seller(app, client, session, services=("model",))
    voucher = await voucher_for(session, seller)  # a compute voucher
    response = await redeem(client, seller, voucher)
    assert response.status_code == 422
    assert response.json()["code"] == "voucher_wrong_kind"
    lookup = await client.get(f"/v1/provider/vouchers/{voucher.code}", headers=seller.headers)
    assert lookup.status_code == 404  # a voucher it may never redeem


async def test_a_provider_whose_authorisation_the_holder_withdrew(
    client: httpx.AsyncClient, session: AsyncSession, seller: Seller, voucher: Voucher
) -> None:
    await session.execute(
        sa.update(VoucherProvider)
        .where(VoucherProvider.voucher_id == voucher.id)  # type: ignore[arg-type]
        .values(revoked_at=utcnow())
    )
    await session.commit()
    response = await redeem(client, seller, voucher)
    assert response.status_code == 404
    assert response.json()["code"] == "voucher_not_found"


@pytest.mark.parametrize(
    ("state", "code"),
    [
        (ProviderState.suspended, "provider_suspended"),
        (ProviderState.publicity, "provider_not_approved"),
    ],
)
async def test_a_provider_that_may_not_redeem(
    client: httpx.AsyncClient,
    session: AsyncSession,
    seller: Seller,
    voucher: Voucher,
    state: ProviderState,
    code: str,
) -> None:
    profile = await session.get(ProviderProfile, seller.organisation.id)
    assert profile is not None
    profile.state = state
    await session.commit()
    response = await redeem(client, seller, voucher)
    assert response.status_code == 403
    assert response.json()["code"] == code


async def test_a_unit_price_over_the_ceiling(
    client: httpx.AsyncClient, session: AsyncSession, seller: Seller, voucher: Voucher, moved: Any
) -> None:
    session.add(
        PriceCeiling(
            program_id=voucher.program_id,
            resource="gpu_hour",
            unit="hour",
            max_unit_price_amount=2000,
        )
    )
    await session.commit()
    over = await redeem(client, seller, voucher)  # 2500 fen per hour
    assert over.status_code == 422
    assert over.json()["code"] == "unit_price_over_ceiling"
    assert over.json()["max_unit_price"] == 2000
    await moved()
    usage = {"resource": "gpu_hour", "quantity": "80", "unit": "hour", "unit_price": 2000}
    assert (await redeem(client, seller, voucher, usage=usage)).status_code == 201


async def test_a_missing_idempotency_key(
    client: httpx.AsyncClient, seller: Seller, voucher: Voucher, moved: Any
) -> None:
    response = await client.post(
        "/v1/provider/redemptions", json=redemption_body(voucher), headers=seller.headers
    )
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_missing"
    await moved()


async def test_the_same_order_twice(
    client: httpx.AsyncClient, seller: Seller, voucher: Voucher, database: Database
) -> None:
    first = await redeem(client, seller, voucher, order_id="INV-1")
    assert first.status_code == 201
    before = await transaction_count(database)
    second = await redeem(client, seller, voucher, order_id="INV-1", bill_amount=1000)
    assert second.status_code == 409
    assert second.json()["code"] == "duplicate_order_id"
    assert await transaction_count(database) == before


async def test_the_same_order_number_at_two_providers(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, seller: Seller, voucher: Voucher
) -> None:
    other = await create_seller(app, client, session)
    theirs = await voucher_for(session, other)
    assert (await redeem(client, seller, voucher, order_id="INV-9")).status_code == 201
    assert (await redeem(client, other, theirs, order_id="INV-9")).status_code == 201


async def hold(client: httpx.AsyncClient, seller: Seller, voucher: Voucher) -> dict[str, Any]:
    response = await redeem(client, seller, voucher, capture=False)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_capture_above_the_hold(
    client: httpx.AsyncClient, seller: Seller, voucher: Voucher, database: Database
) -> None:
    held = await hold(client, seller, voucher)
    before = await transaction_count(database)
    cases = ((held["covered_amount"] + 1, "amount_exceeds_hold"), (0, "invalid_amount"))
    for amount, code in (*cases, (-5, "invalid_amount")):
        response = await client.post(
            f"/v1/provider/redemptions/{held['id']}/capture",
            json={"amount": amount},
            headers=seller.keyed(),
        )
        assert response.status_code == 422, response.text
        assert response.json()["code"] == code
    assert await transaction_count(database) == before


async def test_capture_of_a_voided_hold_and_void_of_a_captured_one(
    client: httpx.AsyncClient, seller: Seller, voucher: Voucher
) -> None:
    held = await hold(client, seller, voucher)
    path = f"/v1/provider/redemptions/{held['id']}"
    assert (await client.post(f"{path}/void", headers=seller.keyed())).status_code == 200
    capture = await client.post(f"{path}/capture", headers=seller.keyed())
    assert capture.status_code == 409
    assert capture.json()["code"] == "redemption_voided"
    again = await client.post(f"{path}/void", headers=seller.keyed())
    assert again.status_code == 409
    captured = (await redeem(client, seller, voucher)).json()
    void = await client.post(
        f"/v1/provider/redemptions/{captured['id']}/void", headers=seller.keyed()
    )
    assert void.status_code == 409
    assert void.json()["code"] == "redemption_captured"


async def test_refund_before_capture_and_above_the_captured_amount(
    client: httpx.AsyncClient, seller: Seller, voucher: Voucher
) -> None:
    held = await hold(client, seller, voucher)
    early = await client.post(
        f"/v1/provider/redemptions/{held['id']}/refunds",
        json={"amount": 100, "reason": "x"},
        headers=seller.keyed(),
    )
    assert early.status_code == 409
    assert early.json()["code"] == "refund_not_allowed"
    captured = (await redeem(client, seller, voucher)).json()
    too_much = await client.post(
        f"/v1/provider/redemptions/{captured['id']}/refunds",
        json={"amount": captured["captured_amount"] + 1, "reason": "x"},
        headers=seller.keyed(),
    )
    assert too_much.status_code == 422
    assert too_much.json()["code"] == "refund_exceeds_captured"
