"""Fixtures of the redemption tests: a provider with a client, and a voucher bound to it."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.redemptions.factories import Seller, create_seller, voucher_for
from voucher_service.vouchers.models import Voucher


@pytest.fixture
async def seller(app: FastAPI, client: httpx.AsyncClient, session: AsyncSession) -> Seller:
    return await create_seller(app, client, session)


@pytest.fixture
async def voucher(session: AsyncSession, seller: Seller) -> Voucher:
    """10,000.00 CNY at 30%."""
    return await voucher_for(session, seller, amount=10_000_00, rate_bp=3000)
