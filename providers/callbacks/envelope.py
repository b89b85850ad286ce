"""The body of every inbound callback: ``{"id", "type", "timestamp", "data"}``.

- ``id``: the provider's own unique id for the callback, its idempotency key; a retry reuses it.
- ``type``: what it is (``statement.submitted``, ``settlement.confirmed``, ...).
- ``timestamp``: when the provider signed this attempt (RFC 3339); refused outside a tolerance,
  so a captured request cannot be played back later. A retry signs again with a fresh timestamp.
- ``data``: the type's payload, validated against the schema its handler registered.

"The same callback" means the same ``id``, ``type`` and ``data``; the timestamp is left out of
the comparison precisely because retries refresh it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any, NoReturn

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from providers.callbacks.errors import CallbackInvalid, CallbackMalformed, CallbackStale

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,199}$"
TYPE_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"
MAX_TYPE_LENGTH = 64

EXAMPLE: dict[str, Any] = {
    "id": "stmt-2026-10-0001",
    "type": "statement.submitted",
    "timestamp": "2026-11-29T08:15:30Z",
    "data": {"period_start_on": "2026-10-01", "period_end_on": "2026-10-31", "lines": []},
}


class CallbackEnvelope(BaseModel):
    """The envelope of an inbound callback (``data`` is checked by the type's handler)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, json_schema_extra={"examples": [EXAMPLE]}
    )

    id: str = Field(
        pattern=ID_PATTERN,
        description="your unique id for this callback (letters, digits, `._:-`, at most 200); "
        "a retry sends the same id",
    )
    type: str = Field(max_length=MAX_TYPE_LENGTH, pattern=TYPE_PATTERN)
    timestamp: AwareDatetime = Field(description="when you signed this attempt (RFC 3339)")
    data: dict[str, Any]


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # A repeated member is read differently by different parsers: the signed statement must
    # mean one thing to everyone who verifies it.
    names = [name for name, _ in pairs]
    if len(names) != len(set(names)):
        raise ValueError("a member name is repeated")
    return dict(pairs)


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def parse_envelope(body: bytes) -> CallbackEnvelope:
    """The envelope in ``body``, or CallbackMalformed / CallbackInvalid."""
    try:
        # UTF-8 only (RFC 8259): json.loads would also take UTF-16 and UTF-32 bytes.
        raw = json.loads(
            body.decode("utf-8"),
            object_pairs_hook=_refuse_duplicates,
            parse_constant=_refuse_constant,
        )
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise CallbackMalformed(f"The body is not valid JSON: {exc}.") from exc
    if not isinstance(raw, dict):
        raise CallbackMalformed("The body must be a JSON object.")
    try:
        return CallbackEnvelope.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in exc.errors()
        )
        raise CallbackInvalid(problems) from exc


def check_fresh(envelope: CallbackEnvelope, now: datetime, tolerance: timedelta) -> None:
    """Refuse a ``timestamp`` further than ``tolerance`` from ``now`` (either way)."""
    skew = abs(now - envelope.timestamp)
    if skew > tolerance:
        raise CallbackStale(
            f"The timestamp is {int(skew.total_seconds())} s from our clock; at most "
            f"{int(tolerance.total_seconds())} s is accepted. Sign again with the current time."
        )


def content_fingerprint(envelope: CallbackEnvelope) -> str:
    """SHA-256 over the canonical JSON of ``type`` and ``data``: what "the same content" means."""
    canonical = json.dumps(
        {"type": envelope.type, "data": envelope.data},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()
