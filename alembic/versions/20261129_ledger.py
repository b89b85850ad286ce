"""ledger: accounts, journal transactions and legs, holds, hot-account deltas, checkpoints

Revision ID: 20261129_ledger
Revises: 20261129_provider_callbacks
Create Date: 2026-11-29 15:41:31.107788

Besides the tables, the database itself enforces the ledger's invariants (see ``ledger.models``):

- PostgreSQL: a deferred constraint trigger checks at commit that every transaction has its
  ``leg_count`` legs, on accounts of its currency, balanced per phase; triggers refuse UPDATE,
  DELETE and TRUNCATE of legs, headers (except setting ``checkpoint_seq`` once) and checkpoints,
  changes to an account's identity, and deleting accounts.
- SQLite: the same refusals; balance is checked when a transaction's last leg (by ``leg_count``)
  is inserted, and a leg beyond ``leg_count`` is refused. A transaction left with fewer legs than
  its ``leg_count`` is not caught by SQLite (no deferred triggers); ``ledger verify`` reports it.

Note for later migrations: altering a ledger table on SQLite in batch mode recreates the table
and drops its triggers; such a migration must create them again.
"""

from collections.abc import Sequence

import sqlalchemy as sa

import ledger.sqltypes
from alembic import op

revision: str = "20261129_ledger"
down_revision: str | None = "20261129_provider_callbacks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RESOLVES = "status = 'committed' AND kind IN ('capture', 'void', 'expire', 'reversal')"

# Every header column but checkpoint_seq, which the sealer sets once.
TRANSACTION_CONTENT = (
    "id, client_id, fingerprint, kind, status, error_code, error_detail, currency, related_id, "
    "reference, details, timeout_ms, leg_count, created_at, content_hash"
)
ACCOUNT_IDENTITY = (
    "id, code, currency, debits_must_not_exceed_credits, credits_must_not_exceed_debits, hot, "
    "created_at"
)

POSTGRESQL_UPGRADE = [
    """
    CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'ledger: % of % is not allowed; ledger rows are never changed',
            TG_OP, TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
    END $$
    """,
    """
    CREATE FUNCTION ledger_assert_balanced(checked uuid) RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
        legs record;
    BEGIN
        SELECT t.leg_count,
               count(e.position) AS n,
               count(*) FILTER (WHERE a.currency <> t.currency) AS foreign_legs,
               count(*) FILTER (WHERE e.position >= t.leg_count) AS misplaced,
               coalesce(sum(CASE e.side WHEN 'debit' THEN e.amount ELSE -e.amount END)
                        FILTER (WHERE e.phase = 'posted'), 0) AS posted,
               coalesce(sum(CASE e.side WHEN 'debit' THEN e.amount ELSE -e.amount END)
                        FILTER (WHERE e.phase = 'pending'), 0) AS pending,
               coalesce(sum(CASE e.side WHEN 'debit' THEN e.amount ELSE -e.amount END)
                        FILTER (WHERE e.phase = 'release'), 0) AS released
          INTO legs
          FROM ledger_transaction t
          LEFT JOIN ledger_entry e ON e.transaction_id = t.id
          LEFT JOIN ledger_account a ON a.id = e.account_id
         WHERE t.id = checked
         GROUP BY t.id;
        IF legs.n <> legs.leg_count OR legs.misplaced > 0 THEN
            RAISE EXCEPTION 'ledger: transaction % has % legs but declares %',
                checked, legs.n, legs.leg_count USING ERRCODE = 'check_violation';
        END IF;
        IF legs.posted <> 0 OR legs.pending <> 0 OR legs.released <> 0 THEN
            RAISE EXCEPTION 'ledger: transaction % is not balanced (debits - credits: '
                'posted %, pending %, release %)', checked, legs.posted, legs.pending,
                legs.released USING ERRCODE = 'check_violation';
        END IF;
        IF legs.foreign_legs > 0 THEN
            RAISE EXCEPTION 'ledger: transaction % has legs on accounts of another currency',
                checked USING ERRCODE = 'check_violation';
        END IF;
    END $$
    """,
    """
    CREATE FUNCTION ledger_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM ledger_assert_balanced(NEW.transaction_id);
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION ledger_transaction_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM ledger_assert_balanced(NEW.id);
        RETURN NULL;
    END $$
    """,
    """
    CREATE CONSTRAINT TRIGGER ledger_entry_balanced AFTER INSERT ON ledger_entry
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_entry_balanced()
    """,
    """
    CREATE CONSTRAINT TRIGGER ledger_transaction_balanced AFTER INSERT ON ledger_transaction
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_transaction_balanced()
    """,
    """
    CREATE TRIGGER ledger_entry_immutable BEFORE UPDATE OR DELETE ON ledger_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()
    """,
    f"""
    CREATE TRIGGER ledger_transaction_immutable
    BEFORE UPDATE OF {TRANSACTION_CONTENT} OR DELETE ON ledger_transaction
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()
    """,
    """
    CREATE TRIGGER ledger_transaction_sealed_once BEFORE UPDATE OF checkpoint_seq
    ON ledger_transaction FOR EACH ROW WHEN (OLD.checkpoint_seq IS NOT NULL)
    EXECUTE FUNCTION ledger_refuse_change()
    """,
    """
    CREATE TRIGGER ledger_checkpoint_immutable BEFORE UPDATE OR DELETE ON ledger_checkpoint
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()
    """,
    f"""
    CREATE TRIGGER ledger_account_identity
    BEFORE UPDATE OF {ACCOUNT_IDENTITY} OR DELETE ON ledger_account
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()
    """,
    *(
        f"""
        CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
        FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()
        """
        for table in ("ledger_entry", "ledger_transaction", "ledger_checkpoint", "ledger_account")
    ),
]

POSTGRESQL_DOWNGRADE = [
    "DROP FUNCTION ledger_entry_balanced() CASCADE",
    "DROP FUNCTION ledger_transaction_balanced() CASCADE",
    "DROP FUNCTION ledger_assert_balanced(uuid)",
    "DROP FUNCTION ledger_refuse_change() CASCADE",
]


def _sqlite_refusal(name: str, event: str, table: str, message: str, when: str = "") -> str:
    condition = f" WHEN {when}" if when else ""
    return (
        f"CREATE TRIGGER {name} {event} ON {table}{condition} "
        f"BEGIN SELECT RAISE(ABORT, 'ledger: {message}'); END"
    )


SQLITE_UPGRADE = [
    _sqlite_refusal(
        "ledger_entry_no_update", "BEFORE UPDATE", "ledger_entry", "legs are never updated"
    ),
    _sqlite_refusal(
        "ledger_entry_no_delete", "BEFORE DELETE", "ledger_entry", "legs are never deleted"
    ),
    _sqlite_refusal(
        "ledger_transaction_immutable",
        f"BEFORE UPDATE OF {TRANSACTION_CONTENT}",
        "ledger_transaction",
        "transactions are never updated",
    ),
    _sqlite_refusal(
        "ledger_transaction_sealed_once",
        "BEFORE UPDATE OF checkpoint_seq",
        "ledger_transaction",
        "a sealed transaction stays sealed",
        when="OLD.checkpoint_seq IS NOT NULL",
    ),
    _sqlite_refusal(
        "ledger_transaction_no_delete",
        "BEFORE DELETE",
        "ledger_transaction",
        "transactions are never deleted",
    ),
    _sqlite_refusal(
        "ledger_checkpoint_no_update",
        "BEFORE UPDATE",
        "ledger_checkpoint",
        "checkpoints are never updated",
    ),
    _sqlite_refusal(
        "ledger_checkpoint_no_delete",
        "BEFORE DELETE",
        "ledger_checkpoint",
        "checkpoints are never deleted",
    ),
    _sqlite_refusal(
        "ledger_account_identity",
        f"BEFORE UPDATE OF {ACCOUNT_IDENTITY}",
        "ledger_account",
        "account code, currency and flags never change",
    ),
    _sqlite_refusal(
        "ledger_account_no_delete", "BEFORE DELETE", "ledger_account", "accounts are never deleted"
    ),
    _sqlite_refusal(
        "ledger_entry_within_count",
        "BEFORE INSERT",
        "ledger_entry",
        "leg beyond its transaction''s leg_count",
        when="NEW.position >= (SELECT leg_count FROM ledger_transaction "
        "WHERE id = NEW.transaction_id)",
    ),
    # Legs are written in position order, so the last one completes the transaction.
    """
    CREATE TRIGGER ledger_entry_balanced AFTER INSERT ON ledger_entry
    WHEN NEW.position = (SELECT leg_count - 1 FROM ledger_transaction
                         WHERE id = NEW.transaction_id)
    BEGIN
        SELECT RAISE(ABORT, 'ledger: transaction has legs missing')
        WHERE (SELECT count(*) FROM ledger_entry WHERE transaction_id = NEW.transaction_id)
              <> NEW.position + 1;
        SELECT RAISE(ABORT, 'ledger: transaction is not balanced')
        WHERE EXISTS (SELECT 1 FROM ledger_entry WHERE transaction_id = NEW.transaction_id
                      GROUP BY phase
                      HAVING sum(CASE side WHEN 'debit' THEN amount ELSE -amount END) <> 0);
        SELECT RAISE(ABORT, 'ledger: transaction has legs on accounts of another currency')
        WHERE EXISTS (SELECT 1 FROM ledger_entry e
                      JOIN ledger_account a ON a.id = e.account_id
                      JOIN ledger_transaction t ON t.id = e.transaction_id
                      WHERE e.transaction_id = NEW.transaction_id AND a.currency <> t.currency);
    END
    """,
]

SQLITE_TRIGGERS = (
    "ledger_entry_no_update",
    "ledger_entry_no_delete",
    "ledger_transaction_immutable",
    "ledger_transaction_sealed_once",
    "ledger_transaction_no_delete",
    "ledger_checkpoint_no_update",
    "ledger_checkpoint_no_delete",
    "ledger_account_identity",
    "ledger_account_no_delete",
    "ledger_entry_within_count",
    "ledger_entry_balanced",
)


def _create_tables() -> None:
    op.create_table(
        "ledger_account",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("debits_must_not_exceed_credits", sa.Boolean(), nullable=False),
        sa.Column("credits_must_not_exceed_debits", sa.Boolean(), nullable=False),
        sa.Column("hot", sa.Boolean(), nullable=False),
        sa.Column("debits_posted", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("credits_posted", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("debits_pending", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("credits_pending", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("created_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "NOT (debits_must_not_exceed_credits AND credits_must_not_exceed_debits)",
            name=op.f("ck_ledger_account_one_limit"),
        ),
        sa.CheckConstraint(
            "NOT (hot AND credits_must_not_exceed_debits)",
            name=op.f("ck_ledger_account_hot_credit_only"),
        ),
        sa.CheckConstraint(
            "NOT credits_must_not_exceed_debits OR credits_posted + credits_pending <= debits_posted",
            name=op.f("ck_ledger_account_credits_within_debits"),
        ),
        sa.CheckConstraint(
            "NOT debits_must_not_exceed_credits OR debits_posted + debits_pending <= credits_posted",
            name=op.f("ck_ledger_account_debits_within_credits"),
        ),
        sa.CheckConstraint(
            "debits_posted >= 0 AND credits_posted >= 0 AND debits_pending >= 0 AND credits_pending >= 0",
            name=op.f("ck_ledger_account_totals_not_negative"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_account")),
        sa.UniqueConstraint("code", name=op.f("uq_ledger_account_code")),
    )
    op.create_table(
        "ledger_balance_delta",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("transaction_id", sa.Uuid(), nullable=False),
        sa.Column("credits_posted", sa.BigInteger(), nullable=False),
        sa.Column("credits_pending", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_balance_delta")),
    )
    op.create_index(
        op.f("ix_ledger_balance_delta_account_id"), "ledger_balance_delta", ["account_id"]
    )
    op.create_table(
        "ledger_checkpoint",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("merkle_root", sa.String(length=64), nullable=False),
        sa.Column("transaction_count", sa.Integer(), nullable=False),
        sa.Column("first_transaction_id", sa.Uuid(), nullable=False),
        sa.Column("last_transaction_id", sa.Uuid(), nullable=False),
        sa.Column("sealed_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("checkpoint_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "seq > 0 AND transaction_count > 0", name=op.f("ck_ledger_checkpoint_positive")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_ledger_checkpoint")),
        sa.UniqueConstraint("checkpoint_hash", name=op.f("uq_ledger_checkpoint_checkpoint_hash")),
    )
    op.create_table(
        "ledger_transaction",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_detail", sa.String(length=500), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("related_id", sa.Uuid(), nullable=True),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("timeout_ms", sa.BigInteger(), nullable=True),
        sa.Column("leg_count", sa.Integer(), nullable=False),
        sa.Column("created_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("checkpoint_seq", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "(kind = 'hold') = (timeout_ms IS NOT NULL) AND (timeout_ms IS NULL OR timeout_ms > 0)",
            name=op.f("ck_ledger_transaction_hold_timeout"),
        ),
        sa.CheckConstraint(
            "(related_id IS NOT NULL) OR kind IN ('transfer', 'hold')",
            name=op.f("ck_ledger_transaction_related"),
        ),
        sa.CheckConstraint(
            "(status = 'refused' AND error_code IS NOT NULL AND leg_count = 0) OR (status = 'committed' AND error_code IS NULL AND leg_count >= 2)",
            name=op.f("ck_ledger_transaction_outcome"),
        ),
        sa.CheckConstraint(
            "kind IN ('transfer', 'hold', 'capture', 'void', 'expire', 'reversal')",
            name=op.f("ck_ledger_transaction_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('committed', 'refused')", name=op.f("ck_ledger_transaction_status")
        ),
        sa.ForeignKeyConstraint(
            ["checkpoint_seq"],
            ["ledger_checkpoint.seq"],
            name=op.f("fk_ledger_transaction_checkpoint_seq_ledger_checkpoint"),
        ),
        sa.ForeignKeyConstraint(
            ["related_id"],
            ["ledger_transaction.id"],
            name=op.f("fk_ledger_transaction_related_id_ledger_transaction"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_transaction")),
        sa.UniqueConstraint("client_id", name=op.f("uq_ledger_transaction_client_id")),
    )
    for name, column, where in (
        ("ix_ledger_transaction_checkpoint_seq", "checkpoint_seq", "checkpoint_seq IS NOT NULL"),
        ("ix_ledger_transaction_reference", "reference", "reference IS NOT NULL"),
        ("ix_ledger_transaction_related", "related_id", "related_id IS NOT NULL"),
        ("ix_ledger_transaction_unsealed", "id", "checkpoint_seq IS NULL"),
    ):
        op.create_index(
            name,
            "ledger_transaction",
            [column],
            postgresql_where=sa.text(where),
            sqlite_where=sa.text(where),
        )
    op.create_index(
        "uq_ledger_transaction_resolves",
        "ledger_transaction",
        ["related_id"],
        unique=True,
        postgresql_where=sa.text(RESOLVES),
        sqlite_where=sa.text(RESOLVES),
    )
    op.create_table(
        "ledger_entry",
        sa.Column("transaction_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("side", sa.String(length=6), nullable=False),
        sa.Column("phase", sa.String(length=8), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "phase IN ('posted', 'pending', 'release')", name=op.f("ck_ledger_entry_phase")
        ),
        sa.CheckConstraint("side IN ('debit', 'credit')", name=op.f("ck_ledger_entry_side")),
        sa.CheckConstraint("amount > 0", name=op.f("ck_ledger_entry_amount_positive")),
        sa.CheckConstraint("position >= 0", name=op.f("ck_ledger_entry_position")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger_account.id"],
            name=op.f("fk_ledger_entry_account_id_ledger_account"),
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transaction.id"],
            name=op.f("fk_ledger_entry_transaction_id_ledger_transaction"),
        ),
        sa.PrimaryKeyConstraint("transaction_id", "position", name=op.f("pk_ledger_entry")),
    )
    op.create_index(
        "ix_ledger_entry_account", "ledger_entry", ["account_id", "transaction_id", "position"]
    )
    op.create_table(
        "ledger_pending_hold",
        sa.Column("hold_id", sa.Uuid(), nullable=False),
        sa.Column("debit_account_id", sa.Uuid(), nullable=False),
        sa.Column("credit_account_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("timeout_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_ledger_pending_hold_amount_positive")),
        sa.ForeignKeyConstraint(
            ["hold_id"],
            ["ledger_transaction.id"],
            name=op.f("fk_ledger_pending_hold_hold_id_ledger_transaction"),
        ),
        sa.PrimaryKeyConstraint("hold_id", name=op.f("pk_ledger_pending_hold")),
    )
    op.create_index(
        op.f("ix_ledger_pending_hold_timeout_at"), "ledger_pending_hold", ["timeout_at"]
    )


def upgrade() -> None:
    _create_tables()
    dialect = op.get_bind().dialect.name
    for statement in POSTGRESQL_UPGRADE if dialect == "postgresql" else SQLITE_UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_DOWNGRADE:
            op.execute(statement)
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    for table in (
        "ledger_pending_hold",
        "ledger_entry",
        "ledger_transaction",
        "ledger_checkpoint",
        "ledger_balance_delta",
        "ledger_account",
    ):
        op.drop_table(table)
