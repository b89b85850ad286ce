"""Tables of reconciliation: the report, its differences and bad lines, and the staging table.

``reconciliation_line`` holds a statement's lines only while it is imported and matched (one unit
of work): the database finds duplicate order ids and does the outer join against ``redemption``,
so no Python structure ever holds the whole statement. What stays is the report: totals on
``reconciliation``, every difference in ``reconciliation_difference`` and, for a rejected
statement, every bad line in ``reconciliation_error``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from voucher_service.kit.models import IdModel, UTCDateTime


class ReconciliationStatus(StrEnum):
    rejected = "rejected"  # bad lines: nothing imported, the errors are the report
    matched = "matched"  # no differences
    discrepancies = "discrepancies"


class DifferenceKind(StrEnum):
    missing_ours = "missing_ours"  # on their statement, not in our redemptions
    missing_theirs = "missing_theirs"  # in our redemptions, not on their statement
    amount_mismatch = "amount_mismatch"


def _money() -> int:
    return Field(default=0, sa_type=sa.BigInteger)  # type: ignore[no-any-return]


class Reconciliation(IdModel, table=True):
    __tablename__ = "reconciliation"
    __table_args__ = (
        sa.CheckConstraint("status IN ('rejected', 'matched', 'discrepancies')", name="status"),
        sa.Index("ix_reconciliation_provider", "provider_id", "id"),
    )

    provider_id: uuid.UUID = Field(foreign_key="organisation.id")
    period_start_on: date
    period_end_on: date
    status: str = Field(max_length=20)
    encoding: str = Field(max_length=20)
    line_count: int = Field(default=0, sa_type=sa.BigInteger)
    error_count: int = Field(default=0, sa_type=sa.BigInteger)
    matched_count: int = Field(default=0, sa_type=sa.BigInteger)
    matched_amount: int = _money()
    missing_ours_count: int = Field(default=0, sa_type=sa.BigInteger)
    missing_ours_amount: int = _money()
    missing_theirs_count: int = Field(default=0, sa_type=sa.BigInteger)
    missing_theirs_amount: int = _money()
    mismatch_count: int = Field(default=0, sa_type=sa.BigInteger)
    mismatch_their_amount: int = _money()
    mismatch_our_amount: int = _money()
    statement_amount: int = _money()
    uploaded_by_id: uuid.UUID | None = Field(default=None)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ReconciliationLine(SQLModel, table=True):
    """Staging: one statement line while it is matched."""

    __tablename__ = "reconciliation_line"
    __table_args__ = (sa.Index("ix_reconciliation_line_order", "reconciliation_id", "order_id"),)

    reconciliation_id: uuid.UUID = Field(primary_key=True)
    line_no: int = Field(primary_key=True, sa_type=sa.BigInteger)
    order_id: str = Field(max_length=200)
    amount: int = Field(sa_type=sa.BigInteger)


class ReconciliationDifference(SQLModel, table=True):
    __tablename__ = "reconciliation_difference"

    reconciliation_id: uuid.UUID = Field(foreign_key="reconciliation.id", primary_key=True)
    order_id: str = Field(max_length=200, primary_key=True)
    kind: str = Field(max_length=20)
    their_amount: int | None = Field(default=None, sa_type=sa.BigInteger)
    our_amount: int | None = Field(default=None, sa_type=sa.BigInteger)
    line_no: int | None = Field(default=None, sa_type=sa.BigInteger)
    redemption_id: uuid.UUID | None = Field(default=None)


class ReconciliationError(SQLModel, table=True):
    __tablename__ = "reconciliation_error"

    reconciliation_id: uuid.UUID = Field(foreign_key="reconciliation.id", primary_key=True)
    line_no: int = Field(primary_key=True, sa_type=sa.BigInteger)
    code: str = Field(max_length=50)
    detail: str = Field(max_length=200)
