"""Hooks other domains fill in: whether a redemption's settlement is paid (refunds stop then).

The settlements domain registers its check at import::

    from voucher_service.redemptions import hooks

    hooks.register_settled_paid_check(settlement_paid_for)  # async (session, redemption) -> bool
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from voucher_service.redemptions.models import Redemption

SettledPaidCheck = Callable[[AsyncSession, Redemption], Awaitable[bool]]
_checks: list[SettledPaidCheck] = []


def register_settled_paid_check(check: SettledPaidCheck) -> None:
    """Add a check telling whether the settlement containing a redemption has been paid."""
    if check not in _checks:
        _checks.append(check)


async def is_settled_paid(session: AsyncSession, redemption: Redemption) -> bool:
    """Whether a paid settlement contains ``redemption`` (False until settlements exist)."""
    for check in _checks:
        if await check(session, redemption):
            return True
    return False
