"""What happens in the demo once its cast exists: programmes, applications at every stage,
vouchers and redemptions, each through the same services as the API."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from voucher_service.demo.people import Cast
from voucher_service.settings import Settings


async def tell(session: AsyncSession, settings: Settings, cast: Cast) -> None:
    """Everything after the cast (grows as the services it uses exist)."""
    del session, settings, cast
