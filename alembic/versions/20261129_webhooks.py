"""webhooks: outbox (webhook_event), endpoints, delivery attempts, operator notices

Revision ID: 20261129_webhooks
Revises: 20261129_identity
Create Date: 2026-11-29 15:36:11.904537
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import ledger.sqltypes
from alembic import op

revision: str = "20261129_webhooks"
down_revision: str | None = "20261129_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhook_endpoint",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column(
            "secret_ciphertext", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False
        ),
        sa.Column(
            "previous_secret_ciphertext",
            sqlmodel.sql.sqltypes.AutoString(length=500),
            nullable=True,
        ),
        sa.Column(
            "previous_secret_expires_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("disabled_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("disabled_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoint")),
    )
    op.create_index(
        op.f("ix_webhook_endpoint_provider_id"), "webhook_endpoint", ["provider_id"], unique=True
    )

    op.create_table(
        "webhook_event",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.Column("round_attempt_count", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("last_attempt_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("delivered_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("dead_lettered_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_event")),
    )
    op.create_index(
        "ix_webhook_event_due", "webhook_event", ["status", "next_attempt_at"], unique=False
    )
    op.create_index(
        "ix_webhook_event_provider", "webhook_event", ["provider_id", "status", "id"], unique=False
    )

    op.create_table(
        "webhook_notice",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("message", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("message_zh", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=True),
        sa.Column("resolved_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_notice")),
    )
    op.create_index(
        op.f("ix_webhook_notice_provider_id"), "webhook_notice", ["provider_id"], unique=False
    )

    op.create_table(
        "webhook_attempt",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("attempt_number", sa.Integer(), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("next_attempt_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("worker_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["webhook_event.id"],
            name=op.f("fk_webhook_attempt_event_id_webhook_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempt")),
    )
    op.create_index("ix_webhook_attempt_event", "webhook_attempt", ["event_id", "id"], unique=False)
    op.create_index(
        "ix_webhook_attempt_provider", "webhook_attempt", ["provider_id", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_attempt_provider", table_name="webhook_attempt")
    op.drop_index("ix_webhook_attempt_event", table_name="webhook_attempt")

    op.drop_table("webhook_attempt")
    op.drop_index(op.f("ix_webhook_notice_provider_id"), table_name="webhook_notice")

    op.drop_table("webhook_notice")
    op.drop_index("ix_webhook_event_provider", table_name="webhook_event")
    op.drop_index("ix_webhook_event_due", table_name="webhook_event")

    op.drop_table("webhook_event")
    op.drop_index(op.f("ix_webhook_endpoint_provider_id"), table_name="webhook_endpoint")

    op.drop_table("webhook_endpoint")
