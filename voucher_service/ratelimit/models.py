"""One row per rate-limit key: the current fixed window's count and the previous one's."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class RateLimitBucket(SQLModel, table=True):
    __tablename__ = "rate_limit_bucket"

    key: str = Field(primary_key=True, max_length=200)
    window: int = Field(sa_type=sa.BigInteger)  # unix time // window length
    count: int = Field(default=0)
    previous_count: int = Field(default=0)
