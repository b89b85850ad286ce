"""Base pieces for table models: the MetaData naming convention, ids and timestamps."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from ledger.sqltypes import NAMING_CONVENTION, UTCDateTime, new_id, utcnow

SQLModel.metadata.naming_convention = NAMING_CONVENTION


class IdModel(SQLModel):
    """A UUIDv7 primary key ``id`` and the UTC ``created_at`` of the row."""

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


__all__ = ["IdModel", "UTCDateTime", "new_id", "utcnow"]
