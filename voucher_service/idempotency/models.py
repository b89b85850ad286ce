"""One row per (caller, idempotency key): the request's fingerprint and, once done, its answer.

The row is inserted first, in the request's own unit of work, and completed in it: the change and
its record commit together or not at all. While the first request runs, its uncommitted row (and,
on PostgreSQL, a transaction-scoped advisory lock) makes a second request with the same key wait.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from voucher_service.kit.models import IdModel, UTCDateTime


class IdempotencyRecord(IdModel, table=True):
    __tablename__ = "idempotency_record"
    __table_args__ = (sa.UniqueConstraint("caller", "key"),)

    caller: str = Field(max_length=80)  # "user:<id>" or "provider:<organisation id>"
    key: str = Field(max_length=255)
    fingerprint: str = Field(max_length=64)  # SHA-256 of method, path, query and canonical body
    method: str = Field(max_length=10)
    path: str = Field(max_length=500)
    response_status: int | None = Field(default=None)
    response_headers: list[Any] | None = Field(default=None, sa_type=sa.JSON)
    response_body: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
