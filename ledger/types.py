"""Plain values the ledger takes and returns: accounts, transfers, transactions, outcomes."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ledger.errors import Refusal, refusal_from_record

JsonObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """What an account is: opening the same spec twice returns the same account."""

    code: str
    currency: str = "CNY"
    debits_must_not_exceed_credits: bool = False
    credits_must_not_exceed_debits: bool = False
    hot: bool = False


@dataclass(frozen=True, slots=True)
class Account:
    """An opened account. Its attributes never change, so this value never goes stale."""

    id: uuid.UUID
    code: str
    currency: str
    debits_must_not_exceed_credits: bool
    credits_must_not_exceed_debits: bool
    hot: bool

    @property
    def spec(self) -> AccountSpec:
        """What the account was opened as."""
        return AccountSpec(
            self.code,
            self.currency,
            self.debits_must_not_exceed_credits,
            self.credits_must_not_exceed_debits,
            self.hot,
        )


@dataclass(frozen=True, slots=True)
class Transfer:
    """Move ``amount`` fen from ``debit`` to ``credit`` (accounts of the same currency)."""

    debit: Account
    credit: Account
    amount: int


@dataclass(frozen=True, slots=True)
class Balance:
    """An account's four totals. Derived figures read the account as credit-normal."""

    debits_posted: int = 0
    credits_posted: int = 0
    debits_pending: int = 0
    credits_pending: int = 0

    @property
    def posted(self) -> int:
        """Posted credits minus posted debits (negative for a debit balance, e.g. the treasury)."""
        return self.credits_posted - self.debits_posted

    @property
    def available(self) -> int:
        """What a debit could still take from an account limited to its credits."""
        return self.credits_posted - self.debits_posted - self.debits_pending

    def __add__(self, other: Balance) -> Balance:
        return Balance(
            self.debits_posted + other.debits_posted,
            self.credits_posted + other.credits_posted,
            self.debits_pending + other.debits_pending,
            self.credits_pending + other.credits_pending,
        )


@dataclass(frozen=True, slots=True)
class Leg:
    """One side of a transfer: ``amount`` added to (or, ``release``, taken off) a total."""

    position: int
    account_id: uuid.UUID
    side: str  # "debit" | "credit"
    phase: str  # "posted" | "pending" | "release"
    amount: int


@dataclass(frozen=True, slots=True)
class Transaction:
    """A stored journal transaction (committed, or a remembered refusal without legs)."""

    id: uuid.UUID
    client_id: str
    fingerprint: str
    kind: str
    status: str
    error_code: str | None
    error_detail: str | None
    currency: str
    related_id: uuid.UUID | None
    reference: str | None
    details: JsonObject | None
    timeout_ms: int | None
    created_at: datetime
    content_hash: str
    checkpoint_seq: int | None = None
    legs: tuple[Leg, ...] = ()
    #: How many legs the header declares (stored; ``verify`` compares it with ``legs``).
    leg_count: int = 0

    @property
    def committed(self) -> bool:
        """True for a written transaction, False for a remembered refusal."""
        return self.status == "committed"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a posting function did, or what it did the first time this client id was used.

    ``balances`` holds the new totals of the accounts whose rows the call updated (empty on a
    replay, and never for credits appended to a hot account). ``expires_at`` is a hold's timeout
    by the database clock, while it is open.
    """

    transaction: Transaction
    replayed: bool = False
    balances: Mapping[uuid.UUID, Balance] = field(default_factory=dict)
    expires_at: datetime | None = None

    @property
    def ok(self) -> bool:
        """True if the transaction was written (now, or the first time)."""
        return self.transaction.committed

    @property
    def refusal(self) -> Refusal | None:
        """The refusal, rebuilt from the stored record; None when the transaction committed."""
        record = self.transaction
        if record.committed or record.error_code is None:
            return None
        return refusal_from_record(record.error_code, record.error_detail)

    def unwrap(self) -> Transaction:
        """The committed transaction, or raise its refusal."""
        refusal = self.refusal
        if refusal is not None:
            raise refusal
        return self.transaction


@dataclass(frozen=True, slots=True)
class HoldState:
    """Where a hold stands: ``pending``, ``expired`` (due, not yet processed), or resolved."""

    hold_id: uuid.UUID
    debit_account_id: uuid.UUID
    credit_account_id: uuid.UUID
    amount: int
    status: str  # pending | due | captured | voided | expired
    expires_at: datetime | None
    resolution_id: uuid.UUID | None
    captured_amount: int
