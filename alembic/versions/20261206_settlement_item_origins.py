"""settlement items name their redemption or claim: index the ledger transactions they are found by

Revision ID: 20261206_item_origins
Revises: 20261205_settle_resolution
Create Date: 2026-12-06 09:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261206_item_origins"
down_revision: str | None = "20261205_settle_resolution"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("redemption", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_redemption_resolution_transaction_id"),
            ["resolution_transaction_id"],
            unique=False,
        )
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_claim_transaction_id"), ["transaction_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_transaction_id"))
    with op.batch_alter_table("redemption", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_redemption_resolution_transaction_id"))
