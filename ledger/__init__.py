"""Double-entry ledger core: accounts, transfers, holds, idempotency, checkpoints, verification.

Imports neither ``voucher_service`` nor ``providers``; knows no HTTP. The design is described at
the top of :mod:`ledger.models`; how to call the posting functions (who commits, how refusals
are remembered) at the top of :mod:`ledger.posting`.
"""

from ledger import chart
from ledger.accounts import (
    get_account,
    get_accounts,
    get_accounts_by_id,
    open_account,
    open_accounts,
)
from ledger.batching import GroupCommitter
from ledger.errors import (
    AccountConflict,
    AccountNotFound,
    AlreadyReversed,
    AmountExceedsHold,
    CreditLimitExceeded,
    HoldAlreadyResolved,
    HoldExpired,
    IdempotencyConflict,
    InsufficientBalance,
    IntegrityBreach,
    InvalidRequest,
    LedgerError,
    NothingToSweep,
    Refusal,
    TransactionNotFound,
)
from ledger.folding import fold_hot_accounts
from ledger.posting import capture, expire_due_holds, hold, reverse, sweep, transfer, void
from ledger.queries import (
    StatementLine,
    StatementPage,
    TrialBalance,
    balance,
    get_transaction,
    hold_state,
    related_transactions,
    statement,
    sum_legs,
    transaction_by_client_id,
    trial_balance,
)
from ledger.retry import is_retryable, run_transaction
from ledger.sealing import Checkpoint, fresh_receipt, read_receipt, receipt, seal_checkpoint
from ledger.signing import Signer, Verifier
from ledger.types import (
    Account,
    AccountSpec,
    Balance,
    HoldState,
    Leg,
    Outcome,
    Transaction,
    Transfer,
)
from ledger.verification import Break, VerifyReport, verify

__all__ = [
    "Account",
    "AccountConflict",
    "AccountNotFound",
    "AccountSpec",
    "AlreadyReversed",
    "AmountExceedsHold",
    "Balance",
    "Break",
    "Checkpoint",
    "CreditLimitExceeded",
    "GroupCommitter",
    "HoldAlreadyResolved",
    "HoldExpired",
    "HoldState",
    "IdempotencyConflict",
    "InsufficientBalance",
    "IntegrityBreach",
    "InvalidRequest",
    "LedgerError",
    "Leg",
    "NothingToSweep",
    "Outcome",
    "Refusal",
    "Signer",
    "StatementLine",
    "StatementPage",
    "Transaction",
    "TransactionNotFound",
    "Transfer",
    "TrialBalance",
    "Verifier",
    "VerifyReport",
    "balance",
    "capture",
    "chart",
    "expire_due_holds",
    "fold_hot_accounts",
    "fresh_receipt",
    "get_account",
    "get_accounts",
    "get_accounts_by_id",
    "get_transaction",
    "hold",
    "hold_state",
    "is_retryable",
    "open_account",
    "open_accounts",
    "read_receipt",
    "receipt",
    "related_transactions",
    "reverse",
    "run_transaction",
    "seal_checkpoint",
    "statement",
    "sum_legs",
    "sweep",
    "transaction_by_client_id",
    "transfer",
    "trial_balance",
    "verify",
    "void",
]
