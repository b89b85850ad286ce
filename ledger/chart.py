"""The chart of accounts of a voucher programme (DESIGN §4), as account specs.

⊣ accounts (``debits_must_not_exceed_credits``) can never be overdrawn. A provider's payable
account is ``hot``: every redemption credits it, and credits never break its limit, so they are
appended as deltas instead of queueing on its row (see ``ledger.models``).
"""

from __future__ import annotations

import uuid

from ledger.types import AccountSpec

CURRENCY = "CNY"


def treasury(currency: str = CURRENCY) -> AccountSpec:
    """Money committed to programmes and not yet paid out (a debit balance); no limit."""
    return AccountSpec("treasury" if currency == CURRENCY else f"treasury:{currency}", currency)


def program_available(program_id: uuid.UUID, currency: str = CURRENCY) -> AccountSpec:
    """A programme's budget not yet issued as vouchers."""
    return AccountSpec(
        f"program:{program_id}:available", currency, debits_must_not_exceed_credits=True
    )


def voucher(voucher_id: uuid.UUID, currency: str = CURRENCY) -> AccountSpec:
    """A voucher's value: issued, minus redeemed, claimed and returned."""
    return AccountSpec(f"voucher:{voucher_id}", currency, debits_must_not_exceed_credits=True)


def provider_payable(provider_id: uuid.UUID, currency: str = CURRENCY) -> AccountSpec:
    """What the programme owes a provider for redemptions (hot: credited by every redemption)."""
    return AccountSpec(
        f"provider:{provider_id}:payable", currency, debits_must_not_exceed_credits=True, hot=True
    )


def enterprise_payable(enterprise_id: uuid.UUID, currency: str = CURRENCY) -> AccountSpec:
    """What the programme owes an enterprise for approved reimbursement claims."""
    return AccountSpec(
        f"enterprise:{enterprise_id}:payable", currency, debits_must_not_exceed_credits=True
    )
