"""scale: reconciliation_line (a statement's lines while one unit of work matches them) unlogged

A staged line never outlives the transaction that writes it, so it needs no write-ahead log:
a million-line statement is staged and deleted without writing it to the WAL twice.
PostgreSQL only; SQLite has no such thing.

Revision ID: 20261205_scale_unlogged_staging
Revises: 20261204_settlements
Create Date: 2026-12-05 09:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261205_scale_unlogged_staging"
down_revision: str | None = "20261204_settlements"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE reconciliation_line SET UNLOGGED")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE reconciliation_line SET LOGGED")
