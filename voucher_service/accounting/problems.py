"""The HTTP status of every ledger exception; imported by ``voucher_service.app``.

Each exception carries its own stable ``code`` and titles, so this is the only place the
application decides anything about them.
"""

from __future__ import annotations

import ledger
from voucher_service.kit.problems import register_foreign

STATUSES: dict[type[ledger.LedgerError], int] = {
    ledger.LedgerError: 500,
    ledger.IntegrityBreach: 500,
    ledger.InvalidRequest: 422,
    ledger.AccountNotFound: 404,
    ledger.TransactionNotFound: 404,
    ledger.AccountConflict: 409,
    ledger.IdempotencyConflict: 409,
    ledger.Refusal: 409,
    ledger.InsufficientBalance: 422,
    ledger.CreditLimitExceeded: 422,
    ledger.AmountExceedsHold: 422,
    ledger.HoldExpired: 409,
    ledger.HoldAlreadyResolved: 409,
    ledger.AlreadyReversed: 409,
    ledger.NothingToSweep: 409,
}

for exception_type, status in STATUSES.items():
    register_foreign(exception_type, status)
