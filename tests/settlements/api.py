"""Settlement steps through the API, shared by the settlement tests."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.programs.factories import create_provider, create_voucher
from voucher_service.exports.columns import SHANGHAI
from voucher_service.kit.models import utcnow
from voucher_service.organisations.models import Organisation
from voucher_service.vouchers.models import Voucher

TODAY = utcnow().astimezone(SHANGHAI).date()
PERIOD = {"period_start_on": str(TODAY - timedelta(days=1)), "period_end_on": str(TODAY)}


async def setup(session: AsyncSession) -> tuple[Organisation, Voucher]:
    provider = await create_provider(session)
    voucher = await create_voucher(session, amount=1_000_00, provider=provider)
    return provider, voucher


async def generate(client: httpx.AsyncClient, headers: dict[str, str], voucher: Voucher) -> list:
    body = {"program_id": str(voucher.program_id), **PERIOD}
    response = await client.post("/v1/admin/settlements", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()
