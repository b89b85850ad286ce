"""Response shapes of ledger health (amounts in fen)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

import ledger


class BalancePublic(BaseModel):
    debits_posted: int
    credits_posted: int
    debits_pending: int
    credits_pending: int

    @classmethod
    def of(cls, balance: ledger.Balance) -> BalancePublic:
        return cls(
            debits_posted=balance.debits_posted,
            credits_posted=balance.credits_posted,
            debits_pending=balance.debits_pending,
            credits_pending=balance.credits_pending,
        )


class TrialBalancePublic(BaseModel):
    balanced: bool
    total: BalancePublic
    groups: dict[str, BalancePublic]


class VerifyRunPublic(BaseModel):
    id: uuid.UUID
    created_at: datetime
    ok: bool
    transactions: int
    checkpoints: int
    accounts: int
    holds: int
    breaks: list[str]


class CheckpointPublic(BaseModel):
    seq: int
    transaction_count: int
    sealed_at: datetime
    checkpoint_hash: str
    last_transaction_id: uuid.UUID


class LedgerHealthPublic(BaseModel):
    balanced: bool
    last_verify: VerifyRunPublic | None
    last_checkpoint: CheckpointPublic | None
    unsealed_transactions: int


class AccountPublic(BaseModel):
    id: uuid.UUID
    code: str
    currency: str
    debits_posted: int
    credits_posted: int
    debits_pending: int
    credits_pending: int


class StatementLinePublic(BaseModel):
    transaction_id: uuid.UUID
    position: int
    created_at: datetime
    kind: str
    side: str
    phase: str
    amount: int
    reference: str | None


class StatementPagePublic(BaseModel):
    items: list[StatementLinePublic]
    next_cursor: str | None
