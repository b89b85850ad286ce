"""Time and UUIDv7 ids: a transaction's id carries its creation time, to the millisecond.

Because the id *is* the time, "created before t" is an id range, which is what makes as-of
balances and period sums one index range scan.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_VERSION_7 = 0x7 << 76
_VARIANT = 0x2 << 62


def created_at_of(transaction_id: uuid.UUID) -> datetime:
    """The creation time embedded in a UUIDv7 (millisecond precision)."""
    milliseconds = transaction_id.int >> 80
    return _EPOCH + timedelta(milliseconds=milliseconds)


def first_id_at(moment: datetime) -> uuid.UUID:
    """The smallest UUIDv7 of any id created at or after ``moment`` (rounded up to the ms)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime; use an aware one")
    elapsed = moment - _EPOCH
    microseconds = (elapsed.days * 86_400 + elapsed.seconds) * 1_000_000 + elapsed.microseconds
    milliseconds = -(-microseconds // 1000)
    return uuid.UUID(int=(milliseconds << 80) | _VERSION_7 | _VARIANT)
