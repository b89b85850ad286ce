"""The redemption API through the SDK: typed results, typed refusals, safe retries."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from providers.sdk import (
    AsyncVoucherClient,
    DuplicateOrderId,
    IdempotencyKeyReused,
    InsufficientBalance,
    RedemptionCaptured,
    RedemptionNotAuthorized,
    RedemptionRefused,
    RefundExceedsCaptured,
    Usage,
    VoucherFrozen,
    VoucherNotFound,
    VoucherNotRedeemable,
)
from tests.programs.factories import create_voucher
from tests.sdk.faults import Faults
from voucher_service.organisations.models import Organisation
from voucher_service.vouchers.models import Voucher, VoucherState

GPU = Usage("gpu_hour", "80", "hour", 2500)
REDEMPTIONS = "/v1/provider/redemptions"


@pytest.fixture
async def voucher(session: AsyncSession, provider: Organisation) -> Voucher:
    return await create_voucher(session, amount=10_000_00, provider=provider, rate_bp=3000)


def order() -> str:
    return f"ORD-{uuid.uuid4().hex[:12]}"


async def test_redeem_and_capture_at_once_with_a_verified_receipt(
    sdk: AsyncVoucherClient, voucher: Voucher
) -> None:
    looked_up = await sdk.get_voucher(voucher.code)
    assert (looked_up.status, looked_up.balance, looked_up.rate_bp) == ("active", 10_000_00, 3000)
    assert looked_up.redeemable and looked_up.valid_until is not None
    redemption = await sdk.redeem(voucher.code, order(), 123_457, GPU)
    covered = 123_457 * 3000 // 10_000
    assert redemption.status == "captured"
    assert (redemption.covered_amount, redemption.enterprise_payable) == (
        covered,
        123_457 - covered,
    )
    assert redemption.voucher_balance == 10_000_00 - covered
    assert redemption.receipt is not None
    receipt = await sdk.verify_receipt(redemption.receipt)
    assert {leg["amount"] for leg in receipt.legs} == {covered}
    assert (await sdk.get_voucher(voucher.code)).balance == 10_000_00 - covered


async def test_hold_capture_part_then_refund(sdk: AsyncVoucherClient, voucher: Voucher) -> None:
    held = await sdk.redeem(voucher.code, order(), 200_000, GPU, capture=False)
    assert held.status == "authorized" and held.expires_at is not None
    captured = await sdk.capture(held.id, 50_000)
    assert (captured.status, captured.captured_amount) == ("captured", 50_000)
    assert (await sdk.get_voucher(voucher.code)).balance == 10_000_00 - 50_000
    result = await sdk.refund(held.id, 20_000, "GPU node failed for an hour")
    assert result.refund.amount == 20_000 and result.refund.redemption_id == held.id
    assert result.redemption.refunded_amount == 20_000
    with pytest.raises(RefundExceedsCaptured):
        await sdk.refund(held.id, 30_001, "too much")
    with pytest.raises(RedemptionNotAuthorized) as not_a_hold:
        await sdk.void(held.id)
    assert isinstance(not_a_hold.value, RedemptionCaptured)
    fetched = await sdk.get_redemption(held.id)
    assert [refund.amount for refund in fetched.refunds] == [20_000]


async def test_a_cancelled_job_is_voided(sdk: AsyncVoucherClient, voucher: Voucher) -> None:
    held = await sdk.redeem(voucher.code, order(), 200_000, GPU, capture=False)
    assert (await sdk.get_voucher(voucher.code)).balance == 10_000_00 - 60_000
    voided = await sdk.void(held.id)
    assert voided.status == "voided"
    assert (await sdk.get_voucher(voucher.code)).balance == 10_000_00


async def test_a_short_balance_fails_or_covers_what_is_left(
    sdk: AsyncVoucherClient, session: AsyncSession, provider: Organisation
) -> None:
    small = await create_voucher(session, amount=1_000, provider=provider, rate_bp=5000)
    with pytest.raises(InsufficientBalance) as short:
        await sdk.redeem(small.code, order(), 10_000, GPU)
    assert isinstance(short.value, RedemptionRefused) and short.value.status == 422
    assert (await sdk.get_voucher(small.code)).balance == 1_000  # nothing moved
    partial = await sdk.redeem(small.code, order(), 10_000, GPU, allow_partial=True)
    assert (partial.covered_amount, partial.enterprise_payable) == (1_000, 9_000)
    assert partial.voucher_balance == 0


async def test_refusals_are_typed(
    sdk: AsyncVoucherClient, session: AsyncSession, voucher: Voucher
) -> None:
    foreign = await create_voucher(session, amount=1_000_00)  # bound to another provider
    with pytest.raises(VoucherNotFound):
        await sdk.get_voucher(foreign.code)
    with pytest.raises(VoucherNotFound):
        await sdk.redeem(foreign.code, order(), 10_000, GPU)
    same_order = order()
    await sdk.redeem(voucher.code, same_order, 10_000, GPU)
    with pytest.raises(DuplicateOrderId):
        await sdk.redeem(voucher.code, same_order, 10_000, GPU)
    await sdk.redeem(voucher.code, order(), 10_000, GPU, idempotency_key="k-1")
    with pytest.raises(IdempotencyKeyReused):
        await sdk.redeem(voucher.code, order(), 10_000, GPU, idempotency_key="k-1")
    voucher.state = VoucherState.frozen
    session.add(voucher)
    await session.commit()
    with pytest.raises(VoucherFrozen) as frozen:
        await sdk.redeem(voucher.code, order(), 10_000, GPU)
    assert isinstance(frozen.value, VoucherNotRedeemable)
    assert frozen.value.problem_code == "voucher_frozen"


async def test_lost_responses_are_retried_with_one_ledger_movement(
    sdk: AsyncVoucherClient, voucher: Voucher, faults: Faults
) -> None:
    faults.count, faults.mode, faults.path = 2, "after", REDEMPTIONS
    redemption = await sdk.redeem(voucher.code, order(), 100_000, GPU)
    sent = [r for r in faults.seen if r.url.path == REDEMPTIONS and r.method == "POST"]
    assert len(sent) == 3
    assert len({r.headers["idempotency-key"] for r in sent}) == 1
    assert (await sdk.get_voucher(voucher.code)).balance == 10_000_00 - 30_000
    assert [r.id for r in (await sdk.list_redemptions()).items] == [redemption.id]


async def test_server_errors_are_retried_and_lists_are_paged(
    sdk: AsyncVoucherClient, voucher: Voucher, faults: Faults
) -> None:
    faults.count, faults.mode, faults.path, faults.status = 1, "status", REDEMPTIONS, 503
    made = [await sdk.redeem(voucher.code, order(), 1_000, GPU) for _ in range(3)]
    page = await sdk.list_redemptions(limit=2)
    assert len(page.items) == 2 and page.next_cursor
    assert page.items[0].receipt is None  # list rows carry no receipt
    listed = [r.id async for r in sdk.iter_redemptions(limit=2)]
    assert sorted(listed) == sorted(r.id for r in made)


async def test_one_client_serves_many_concurrent_tasks(
    app: FastAPI, sdk: AsyncVoucherClient, voucher: Voucher, faults: Faults
) -> None:
    done = await asyncio.gather(*(sdk.redeem(voucher.code, order(), 1_000, GPU) for _ in range(8)))
    assert len({r.id for r in done}) == 8
    assert faults.paths().count("/v1/oauth/token") == 1
    assert (await sdk.get_voucher(voucher.code)).balance == 10_000_00 - 8 * 300
