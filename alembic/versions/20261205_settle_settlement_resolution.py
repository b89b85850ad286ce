"""settle: finance resolves a disputed settlement (upheld, or cancelled with its items released)

Revision ID: 20261205_settle_resolution
Revises: 20261204_settlements
Create Date: 2026-12-05 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import ledger.sqltypes
from alembic import op

revision: str = "20261205_settle_resolution"
down_revision: str | None = "20261205_scale_unlogged_staging"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = "status IN ('draft', 'approved', 'paid', 'disputed')"
NEW_STATUSES = "status IN ('draft', 'approved', 'paid', 'disputed', 'cancelled')"


def upgrade() -> None:
    with op.batch_alter_table("settlement", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("resolved_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("resolved_by_id", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "resolution_comment",
                sqlmodel.sql.sqltypes.AutoString(length=1000),
                nullable=True,
            )
        )
        batch_op.drop_constraint(op.f("ck_settlement_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_settlement_status"), NEW_STATUSES)


def downgrade() -> None:
    # The old schema has no "cancelled": such a settlement (its items already released) is kept
    # as the disputed one it was.
    op.execute("UPDATE settlement SET status = 'disputed' WHERE status = 'cancelled'")
    with op.batch_alter_table("settlement", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_settlement_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_settlement_status"), OLD_STATUSES)
        batch_op.drop_column("resolution_comment")
        batch_op.drop_column("resolved_by_id")
        batch_op.drop_column("resolved_at")
