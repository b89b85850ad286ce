"""Idempotency keys for mutating routes: a retry gets the first answer, never a second effect.

A router opts in with ``APIRouter(route_class=IdempotentRoute)`` (or a class made by
:func:`idempotent_route`); see ``docs/CONVENTIONS.md`` and :mod:`voucher_service.idempotency.route`.
"""

from voucher_service.idempotency.route import (
    IdempotentRoute,
    RedemptionIdempotentRoute,
    idempotent_route,
)

__all__ = ["IdempotentRoute", "RedemptionIdempotentRoute", "idempotent_route"]
