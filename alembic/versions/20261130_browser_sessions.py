"""browser sessions: the portal's cookie token and last request time on auth_session

Revision ID: 20261130_browser_sessions
Revises: 20261129_ledger
Create Date: 2026-11-30 09:00:00.000000

A portal sign-in is a login session like an API one, so logout, password changes and suspension
end both the same way; the browser holds an opaque token whose SHA-256 is stored here.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import ledger.sqltypes
from alembic import op

revision: str = "20261130_browser_sessions"
down_revision: str | None = "20261129_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("auth_session", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "browser_token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("last_seen_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_auth_session_browser_token_hash"), ["browser_token_hash"]
        )


def downgrade() -> None:
    with op.batch_alter_table("auth_session", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_auth_session_browser_token_hash"), type_="unique")
        batch_op.drop_column("last_seen_at")
        batch_op.drop_column("browser_token_hash")
