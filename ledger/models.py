"""Tables of the double-entry ledger, and the design they implement.

Overview
========

The ledger records every fen a voucher programme moves, in the spirit of TigerBeetle (balances
and limits on accounts, pending transfers with timeouts) kept in SQL the way django-hordak keeps
it (journal legs that must balance, invariants enforced by the database).

Accounts (``ledger_account``)
    One row per account: a unique ``code`` (``treasury``, ``program:<id>:available``,
    ``voucher:<id>``, ``provider:<id>:payable``, ``enterprise:<id>:payable``), a ``currency`` and
    four running totals, ``debits_posted``, ``credits_posted``, ``debits_pending`` and
    ``credits_pending``. A flag may limit the account: ``debits_must_not_exceed_credits``
    (``debits_posted + debits_pending <= credits_posted``, the ⊣ accounts of the chart) or
    ``credits_must_not_exceed_debits``. Limits are checked in the ``UPDATE`` that changes the
    totals (``... WHERE id = :id AND <limit still holds> RETURNING``), never read-check-write, and
    again by a CHECK constraint. Code, currency and flags never change after opening.

Journal transactions (``ledger_transaction``) and their legs (``ledger_entry``)
    A journal transaction is the unit that commits or fails; callers describe it as transfers
    (debit account, credit account, amount) and the ledger stores each transfer as two legs, one
    per account. A leg adds its positive ``amount`` to the ``posted`` or ``pending`` totals of its
    ``side``, or takes it off the pending total (``release``, when a hold resolves). Within a
    transaction, debit legs and credit legs sum to the same amount for every phase: a deferred
    constraint trigger checks it at commit on PostgreSQL, a trigger checks it when the last leg
    (``leg_count``) arrives on SQLite. Legs and transaction headers are never updated or deleted
    (triggers refuse it); a mistake is corrected by a ``reversal`` pointing at the original.

    Every transaction carries the caller's ``client_id`` (unique, kept forever) and a
    ``fingerprint`` of what was asked. A retry with the same id and fingerprint returns the
    stored outcome; another fingerprint is refused (``IdempotencyConflict``). A request the
    ledger refuses for a business reason (insufficient balance, expired hold, ...) is stored too,
    as a header with ``status = 'refused'``, its ``error_code`` and no legs, so a retry gets the
    same refusal. See ``ledger.posting`` for how that refusal survives: it is written to the
    caller's session, which must commit it.

Holds (``kind = 'hold'``) and ``ledger_pending_hold``
    A hold is a transaction with one pending transfer: the amount moves into
    ``debits_pending``/``credits_pending``. ``ledger_pending_hold`` is the working set of open
    holds (accounts, amount, ``timeout_at`` by the database clock); resolving a hold deletes its
    row in the same statement that checks the hold is still open and not expired, so it resolves
    at most once, and a partial unique index on ``related_id`` of capture/void/expire
    transactions backs that up. A ``capture`` releases the pending amount and posts all or part of
    it; ``void`` and ``expire`` only release it.

Hot accounts and ``ledger_balance_delta``
    An account opened ``hot`` (a big provider's payable account receives every redemption) must
    not make every writer queue on its row lock. A change that touches only its credit side can
    never break its limit, so it is appended to ``ledger_balance_delta`` instead of updating the
    row; readers add the deltas to the row in the same statement (one snapshot, so exact), and
    the ``ledger.fold_hot_accounts`` worker job folds them in. A debit on a hot account locks
    the row and folds its deltas first, so its limit check sees every committed credit. The
    ledger locks account rows ``FOR NO KEY UPDATE`` only, so the foreign-key checks of new legs
    (``FOR KEY SHARE``) never wait for them.

Concurrency
    A posting locks the account rows it changes in account-id order (on PostgreSQL everything a
    posting writes is one statement, see ``ledger.posting.writes``), so postings do not deadlock
    one another. The posting functions never commit; ``ledger.retry.run_transaction`` runs a whole
    unit of work with bounded retries on deadlocks, serialization failures and lost connections,
    safe because a client id replays instead of posting twice. ``ledger.batching.GroupCommitter``
    commits requests that pile up on one hot, limited account (every hold on one big voucher)
    together, so they share its row lock and one WAL flush.

Tamper evidence (``content_hash``, ``checkpoint_seq``, ``ledger_checkpoint``)
    Each header stores the SHA-256 of its canonical content, legs included. A worker job seals
    newly committed transactions (those with ``checkpoint_seq IS NULL``, found through a partial
    index, so one that commits late is sealed by a later checkpoint, never skipped) into a
    checkpoint: the Merkle root of their hashes, chained to the previous checkpoint's hash and
    signed as a compact JWS with the service key. Setting ``checkpoint_seq`` once is the only
    update a header allows. ``ledger.verification`` recomputes all of it.

Money is an integer number of fen in BIGINT columns; every amount is positive (CHECK).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import SQLModel

from ledger.sqltypes import NAMING_CONVENTION, UTCDateTime

# The application's metadata: one Alembic history covers the ledger and the application.
metadata = SQLModel.metadata
metadata.naming_convention = NAMING_CONVENTION

SIDES = ("debit", "credit")
PHASES = ("posted", "pending", "release")
KINDS = ("transfer", "hold", "capture", "void", "expire", "reversal")
RESOLUTION_KINDS = ("capture", "void", "expire")
STATUSES = ("committed", "refused")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def _money(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger, nullable=False, server_default="0")


account = sa.Table(
    "ledger_account",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("code", sa.String(200), nullable=False, unique=True),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("debits_must_not_exceed_credits", sa.Boolean, nullable=False),
    sa.Column("credits_must_not_exceed_debits", sa.Boolean, nullable=False),
    sa.Column("hot", sa.Boolean, nullable=False),
    _money("debits_posted"),
    _money("credits_posted"),
    _money("debits_pending"),
    _money("credits_pending"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.CheckConstraint(
        "debits_posted >= 0 AND credits_posted >= 0 AND debits_pending >= 0 "
        "AND credits_pending >= 0",
        name="totals_not_negative",
    ),
    sa.CheckConstraint(
        "NOT (debits_must_not_exceed_credits AND credits_must_not_exceed_debits)",
        name="one_limit",
    ),
    sa.CheckConstraint("NOT (hot AND credits_must_not_exceed_debits)", name="hot_credit_only"),
    sa.CheckConstraint(
        "NOT debits_must_not_exceed_credits OR debits_posted + debits_pending <= credits_posted",
        name="debits_within_credits",
    ),
    sa.CheckConstraint(
        "NOT credits_must_not_exceed_debits OR credits_posted + credits_pending <= debits_posted",
        name="credits_within_debits",
    ),
)

checkpoint = sa.Table(
    "ledger_checkpoint",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("merkle_root", sa.String(64), nullable=False),
    sa.Column("transaction_count", sa.Integer, nullable=False),
    sa.Column("first_transaction_id", sa.Uuid, nullable=False),
    sa.Column("last_transaction_id", sa.Uuid, nullable=False),
    sa.Column("sealed_at", UTCDateTime, nullable=False),
    sa.Column("signature", sa.Text, nullable=False),
    sa.Column("checkpoint_hash", sa.String(64), nullable=False, unique=True),
    sa.CheckConstraint("seq > 0 AND transaction_count > 0", name="positive"),
)

transaction = sa.Table(
    "ledger_transaction",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("client_id", sa.String(200), nullable=False, unique=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("error_code", sa.String(64)),
    sa.Column("error_detail", sa.String(500)),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("related_id", sa.Uuid, sa.ForeignKey("ledger_transaction.id")),
    sa.Column("reference", sa.String(200)),
    sa.Column("details", sa.JSON),
    sa.Column("timeout_ms", sa.BigInteger),
    sa.Column("leg_count", sa.Integer, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("checkpoint_seq", sa.BigInteger, sa.ForeignKey("ledger_checkpoint.seq")),
    sa.CheckConstraint(_in("kind", KINDS), name="kind"),
    sa.CheckConstraint(_in("status", STATUSES), name="status"),
    sa.CheckConstraint(
        "(status = 'refused' AND error_code IS NOT NULL AND leg_count = 0) OR "
        "(status = 'committed' AND error_code IS NULL AND leg_count >= 2)",
        name="outcome",
    ),
    sa.CheckConstraint(
        "(kind = 'hold') = (timeout_ms IS NOT NULL) AND (timeout_ms IS NULL OR timeout_ms > 0)",
        name="hold_timeout",
    ),
    sa.CheckConstraint(
        "(related_id IS NOT NULL) OR " + _in("kind", ("transfer", "hold")), name="related"
    ),
    # A hold resolves at most once and a transaction is reversed at most once.
    sa.Index(
        "uq_ledger_transaction_resolves",
        "related_id",
        unique=True,
        postgresql_where=sa.text(
            "status = 'committed' AND " + _in("kind", (*RESOLUTION_KINDS, "reversal"))
        ),
        sqlite_where=sa.text(
            "status = 'committed' AND " + _in("kind", (*RESOLUTION_KINDS, "reversal"))
        ),
    ),
    sa.Index(
        "ix_ledger_transaction_related",
        "related_id",
        postgresql_where=sa.text("related_id IS NOT NULL"),
        sqlite_where=sa.text("related_id IS NOT NULL"),
    ),
    sa.Index(
        "ix_ledger_transaction_reference",
        "reference",
        postgresql_where=sa.text("reference IS NOT NULL"),
        sqlite_where=sa.text("reference IS NOT NULL"),
    ),
    # The sealer's work queue: only unsealed rows are in this index.
    sa.Index(
        "ix_ledger_transaction_unsealed",
        "id",
        postgresql_where=sa.text("checkpoint_seq IS NULL"),
        sqlite_where=sa.text("checkpoint_seq IS NULL"),
    ),
    sa.Index(
        "ix_ledger_transaction_checkpoint_seq",
        "checkpoint_seq",
        postgresql_where=sa.text("checkpoint_seq IS NOT NULL"),
        sqlite_where=sa.text("checkpoint_seq IS NOT NULL"),
    ),
)

entry = sa.Table(
    "ledger_entry",
    metadata,
    sa.Column("transaction_id", sa.Uuid, sa.ForeignKey("ledger_transaction.id"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("account_id", sa.Uuid, sa.ForeignKey("ledger_account.id"), nullable=False),
    sa.Column("side", sa.String(6), nullable=False),
    sa.Column("phase", sa.String(8), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.CheckConstraint("amount > 0", name="amount_positive"),
    sa.CheckConstraint("position >= 0", name="position"),
    sa.CheckConstraint(_in("side", SIDES), name="side"),
    sa.CheckConstraint(_in("phase", PHASES), name="phase"),
    # Statements and as-of balances: one index range per account, newest or oldest first.
    sa.Index("ix_ledger_entry_account", "account_id", "transaction_id", "position"),
)

pending_hold = sa.Table(
    "ledger_pending_hold",
    metadata,
    sa.Column("hold_id", sa.Uuid, sa.ForeignKey("ledger_transaction.id"), primary_key=True),
    sa.Column("debit_account_id", sa.Uuid, nullable=False),
    sa.Column("credit_account_id", sa.Uuid, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("timeout_at", UTCDateTime, nullable=False, index=True),
    sa.CheckConstraint("amount > 0", name="amount_positive"),
)

# No foreign key to the account on purpose: checking it would lock the hot row (FOR KEY SHARE)
# in every writer, which is what this table exists to avoid. ``verify`` checks the references.
balance_delta = sa.Table(
    "ledger_balance_delta",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("account_id", sa.Uuid, nullable=False, index=True),
    sa.Column("transaction_id", sa.Uuid, nullable=False),
    sa.Column("credits_posted", sa.BigInteger, nullable=False),
    sa.Column("credits_pending", sa.BigInteger, nullable=False),
)
