"""redemptions: idempotency records; provider redemptions and their refunds

Revision ID: 20261203_redemptions
Revises: 20261202_applications
Create Date: 2026-12-03 09:00:00.000000

``idempotency_record`` keeps, per caller and Idempotency-Key, the request's fingerprint and the
answer; it is written in the same unit of work as the change it answers for.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import ledger.sqltypes
from alembic import op

revision: str = "20261203_redemptions"
down_revision: str | None = "20261202_applications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REDEMPTION_INDEXES = (
    "enterprise_id",
    "expires_at",
    "program_id",
    "provider_id",
    "status",
    "voucher_id",
)


def _idempotency_record() -> None:
    op.create_table(
        "idempotency_record",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("caller", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("path", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_headers", sa.JSON(), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("completed_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_record")),
        sa.UniqueConstraint("caller", "key", name=op.f("uq_idempotency_record_caller_key")),
    )
    with op.batch_alter_table("idempotency_record", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_idempotency_record_expires_at"), ["expires_at"], unique=False
        )


def _redemption() -> None:
    op.create_table(
        "redemption",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("voucher_id", sa.Uuid(), nullable=False),
        sa.Column("program_id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("voucher_code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("bill_amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("usage", sa.JSON(), nullable=False),
        sa.Column("rate_bp", sa.Integer(), nullable=False),
        sa.Column("covered_amount", sa.BigInteger(), nullable=False),
        sa.Column("captured_amount", sa.BigInteger(), nullable=False),
        sa.Column("refunded_amount", sa.BigInteger(), nullable=False),
        sa.Column("enterprise_payable_amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("expires_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("authorization_transaction_id", sa.Uuid(), nullable=False),
        sa.Column("resolution_transaction_id", sa.Uuid(), nullable=True),
        sa.Column("captured_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('authorized', 'captured', 'voided', 'expired')",
            name=op.f("ck_redemption_status"),
        ),
        sa.CheckConstraint("bill_amount > 0", name=op.f("ck_redemption_bill_amount")),
        sa.CheckConstraint(
            "captured_amount >= 0 AND captured_amount <= covered_amount",
            name=op.f("ck_redemption_captured"),
        ),
        sa.CheckConstraint(
            "covered_amount > 0 AND covered_amount <= bill_amount",
            name=op.f("ck_redemption_covered"),
        ),
        sa.CheckConstraint(
            "enterprise_payable_amount >= 0", name=op.f("ck_redemption_enterprise_payable")
        ),
        sa.CheckConstraint(
            "refunded_amount >= 0 AND refunded_amount <= captured_amount",
            name=op.f("ck_redemption_refunded"),
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["organisation.id"],
            name=op.f("fk_redemption_enterprise_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["program.id"], name=op.f("fk_redemption_program_id_program")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["organisation.id"],
            name=op.f("fk_redemption_provider_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["voucher_id"], ["voucher.id"], name=op.f("fk_redemption_voucher_id_voucher")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redemption")),
        sa.UniqueConstraint(
            "authorization_transaction_id",
            name=op.f("uq_redemption_authorization_transaction_id"),
        ),
        sa.UniqueConstraint(
            "provider_id", "order_id", name=op.f("uq_redemption_provider_id_order_id")
        ),
    )
    with op.batch_alter_table("redemption", schema=None) as batch_op:
        for column in REDEMPTION_INDEXES:
            batch_op.create_index(batch_op.f(f"ix_redemption_{column}"), [column], unique=False)


def _refund() -> None:
    op.create_table(
        "refund",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("redemption_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("ledger_transaction_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_refund_amount")),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["organisation.id"], name=op.f("fk_refund_provider_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["redemption_id"], ["redemption.id"], name=op.f("fk_refund_redemption_id_redemption")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund")),
        sa.UniqueConstraint("ledger_transaction_id", name=op.f("uq_refund_ledger_transaction_id")),
    )
    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refund_provider_id"), ["provider_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_refund_redemption_id"), ["redemption_id"], unique=False
        )


def upgrade() -> None:
    _idempotency_record()
    _redemption()
    _refund()


def downgrade() -> None:
    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refund_redemption_id"))
        batch_op.drop_index(batch_op.f("ix_refund_provider_id"))
    op.drop_table("refund")
    with op.batch_alter_table("redemption", schema=None) as batch_op:
        for column in REDEMPTION_INDEXES:
            batch_op.drop_index(batch_op.f(f"ix_redemption_{column}"))
    op.drop_table("redemption")
    with op.batch_alter_table("idempotency_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_record_expires_at"))
    op.drop_table("idempotency_record")
