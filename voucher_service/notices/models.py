"""``voucher_expiry_notice``: one row per voucher warned 30 days before it expires.

The primary key is the voucher, so a voucher is warned once however often the job runs (and
however many workers run it); the row is the notice the holder's portal shows.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from voucher_service.kit.models import UTCDateTime, utcnow


class VoucherExpiryNotice(SQLModel, table=True):
    __tablename__ = "voucher_expiry_notice"

    voucher_id: uuid.UUID = Field(foreign_key="voucher.id", primary_key=True)
    holder_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    valid_until: datetime = Field(sa_type=UTCDateTime)
    balance_amount: int = Field(default=0)
    message: str = Field(max_length=500)
    message_zh: str = Field(max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
