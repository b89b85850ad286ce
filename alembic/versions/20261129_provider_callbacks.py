"""provider callbacks: provider_callback, every accepted inbound callback and its evidence

Revision ID: 20261129_provider_callbacks
Revises: 20261129_webhook_routes
Create Date: 2026-11-29 16:25:15.091981
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import ledger.sqltypes
from alembic import op

revision: str = "20261129_provider_callbacks"
down_revision: str | None = "20261129_webhook_routes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "provider_callback",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("api_client_id", sa.Uuid(), nullable=False),
        sa.Column("callback_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("callback_type", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("sent_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("content_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("signing_key", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("outcome", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["api_client_id"],
            ["api_client.id"],
            name=op.f("fk_provider_callback_api_client_id_api_client"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["organisation.id"],
            name=op.f("fk_provider_callback_provider_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_callback")),
        sa.UniqueConstraint(
            "provider_id",
            "callback_id",
            name=op.f("uq_provider_callback_provider_id_callback_id"),
        ),
    )


def downgrade() -> None:
    op.drop_table("provider_callback")
