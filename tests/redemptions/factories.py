"""Factories for redemption tests: a provider with an API client, a voucher bound to it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import bearer, client_token, create_provider_client
from tests.programs.factories import create_provider, create_voucher
from voucher_service.organisations.models import Organisation
from voucher_service.vouchers.models import Voucher

SCOPES = ["vouchers:read", "redemptions:read", "redemptions:write"]


@dataclass
class Seller:
    """A provider and the bearer headers of one of its API clients."""

    organisation: Organisation
    headers: dict[str, str]

    def keyed(self, key: str | None = None) -> dict[str, str]:
        return {**self.headers, "Idempotency-Key": key or str(uuid.uuid4())}


async def create_seller(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, **provider: Any
) -> Seller:
    """An approved provider selling compute and model, with a client holding every scope."""
    organisation = await create_provider(session, **provider)
    issued = await create_provider_client(app, session, organisation=organisation, scopes=SCOPES)
    return Seller(organisation, bearer(await client_token(client, issued)))


async def voucher_for(
    session: AsyncSession,
    seller: Seller,
    *,
    amount: int = 10_000_00,
    rate_bp: int = 5000,
    **kw: Any,
) -> Voucher:
    """A voucher of ``amount`` fen at ``rate_bp`` that ``seller`` may redeem."""
    return await create_voucher(
        session, amount=amount, provider=seller.organisation, rate_bp=rate_bp, **kw
    )


def redemption_body(voucher: Voucher, **overrides: Any) -> dict[str, Any]:
    """A valid redemption request for ``voucher``: a 2,000.00 CNY bill, captured at once."""
    body: dict[str, Any] = {
        "voucher_code": voucher.code,
        "order_id": f"ORD-{uuid.uuid4().hex[:12]}",
        "bill_amount": 200_000,
        "currency": "CNY",
        "usage": {"resource": "gpu_hour", "quantity": "80", "unit": "hour", "unit_price": 2500},
        "capture": True,
        "allow_partial": False,
    }
    body.update(overrides)
    return body


async def redeem(
    client: httpx.AsyncClient, seller: Seller, voucher: Voucher, **overrides: Any
) -> httpx.Response:
    return await client.post(
        "/v1/provider/redemptions",
        json=redemption_body(voucher, **overrides),
        headers=seller.keyed(),
    )
