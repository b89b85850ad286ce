"""The published event types and the schema of their payloads (version 1).

Every body is the Standard Webhooks envelope ``{"type", "timestamp", "data"}``; ``data`` follows
the model of its type below, and these models are what the OpenAPI ``webhooks`` section shows.

Versioning: this is version 1 of every type. Adding an optional field is not a breaking change
(receivers must ignore fields they do not know); a breaking change ships as a new type
(``redemption.captured.v2``) beside the old one, which keeps being sent to those subscribed to it.
So the body stays exactly the Standard Webhooks envelope, and a receiver never sees a shape it did
not subscribe to.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from providers.webhooks.errors import InvalidEventData, UnknownEventType

PAYLOAD_VERSION = 1

VOUCHER_EVENTS = (
    "voucher.bound",
    "voucher.frozen",
    "voucher.unfrozen",
    "voucher.revoked",
    "voucher.expired",
    "voucher.expiring",
)
REDEMPTION_EVENTS = (
    "redemption.captured",
    "redemption.voided",
    "redemption.expired",
    "redemption.refunded",
)
SETTLEMENT_EVENTS = (
    "settlement.issued",
    "settlement.paid",
    "settlement.resolved",  # finance resolved a dispute (issue 8); not in DESIGN §7's list
)
RECONCILIATION_EVENTS = ("reconciliation.completed",)

#: Exactly the event types of DESIGN.md section 7, in that order.
EVENT_TYPES: tuple[str, ...] = (
    VOUCHER_EVENTS + REDEMPTION_EVENTS + SETTLEMENT_EVENTS + RECONCILIATION_EVENTS
)

#: Sent only on an operator's request; always delivered, whatever the subscription, and never
#: emitted by a domain, so a receiver can safely ignore it.
TEST_EVENT_TYPE = "webhook.test"

Fen = Annotated[int, Field(ge=0, strict=True, description="amount in fen (分)")]


class EventData(BaseModel):
    """Base of every ``data`` object: unknown fields are refused when emitting."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class VoucherEventData(EventData):
    """A voucher the provider may redeem changed state."""

    voucher_id: uuid.UUID
    voucher_code: str = Field(max_length=64)
    kind: Literal["compute", "model"]
    status: Literal["active", "frozen", "exhausted", "expired", "revoked"]
    rate_bp: int = Field(ge=0, le=10_000, description="share covered, basis points")
    balance_amount: Fen
    currency: Literal["CNY"] = "CNY"
    valid_until: datetime
    reason: str | None = Field(default=None, max_length=500)


class RefundData(EventData):
    refund_id: uuid.UUID
    amount: Fen
    reason: str | None = Field(default=None, max_length=500)


class RedemptionEventData(EventData):
    """A redemption by this provider was captured, voided, expired or refunded."""

    redemption_id: uuid.UUID
    order_id: str = Field(max_length=200)
    voucher_code: str = Field(max_length=64)
    status: Literal["authorized", "captured", "voided", "expired"]
    bill_amount: Fen
    covered_amount: Fen
    captured_amount: Fen
    refunded_amount: Fen = 0
    currency: Literal["CNY"] = "CNY"
    refund: RefundData | None = None


class SettlementEventData(EventData):
    """A settlement with this provider was issued (for confirmation) or paid, or its dispute
    resolved (``approved``: upheld, payable; ``cancelled``: its items go to a later one)."""

    settlement_id: uuid.UUID
    status: Literal["approved", "paid", "disputed", "cancelled"]
    period_start_on: date
    period_end_on: date
    total_amount: Fen
    currency: Literal["CNY"] = "CNY"
    paid_at: datetime | None = None


class ReconciliationEventData(EventData):
    """The authority reconciled the provider's statement with the ledger."""

    reconciliation_id: uuid.UUID
    statement_id: uuid.UUID | None = None
    period_start_on: date
    period_end_on: date
    status: Literal["matched", "discrepancies"]
    matched_count: int = Field(ge=0)
    discrepancy_count: int = Field(ge=0)


class TestEventData(EventData):
    """A test event an operator asked for; carries no business meaning."""

    message: str = Field(max_length=500)


DATA_MODELS: dict[str, type[EventData]] = (
    dict.fromkeys(VOUCHER_EVENTS, VoucherEventData)
    | dict.fromkeys(REDEMPTION_EVENTS, RedemptionEventData)
    | dict.fromkeys(SETTLEMENT_EVENTS, SettlementEventData)
    | dict.fromkeys(RECONCILIATION_EVENTS, ReconciliationEventData)
    | {TEST_EVENT_TYPE: TestEventData}
)


def check_event_types(event_types: object) -> list[str]:
    """The subscribable types in ``event_types`` (deduplicated, in published order), or raise."""
    if not isinstance(event_types, list | tuple | set | frozenset) or not event_types:
        raise UnknownEventType("Subscribe to at least one event type.")
    unknown = sorted(str(t) for t in event_types if t not in EVENT_TYPES)
    if unknown:
        raise UnknownEventType(f"Unknown event types: {', '.join(unknown)}.")
    return [t for t in EVENT_TYPES if t in event_types]


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds and ``Z``: sortable, and the order of events."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def encode_event(event_type: str, data: Mapping[str, Any] | EventData, moment: datetime) -> str:
    """The exact JSON body that will be signed and sent for this event."""
    model = DATA_MODELS.get(event_type)
    if model is None:
        raise UnknownEventType(f"Unknown event type {event_type!r}.")
    try:
        validated = data if isinstance(data, model) else model.model_validate(data)
    except ValidationError as exc:
        raise InvalidEventData(f"{event_type}: {exc.errors(include_url=False)}") from exc
    envelope = {
        "type": event_type,
        "timestamp": format_timestamp(moment),
        "data": validated.model_dump(mode="json"),
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))


_VOUCHER_EXAMPLE: dict[str, Any] = {
    "voucher_id": "0193a1f2-7c4e-7d2a-9b1e-3f5a6c7d8e90",
    "voucher_code": "SHC-7K3M-Q9PX-4",
    "kind": "compute",
    "status": "active",
    "rate_bp": 3000,
    "balance_amount": 12_000_000,
    "currency": "CNY",
    "valid_until": "2026-12-31T15:59:59Z",
    "reason": None,
}
_REDEMPTION_EXAMPLE: dict[str, Any] = {
    "redemption_id": "0193a1f3-0a1b-7c2d-8e3f-405162738495",
    "order_id": "INV-2026-000123",
    "voucher_code": "SHC-7K3M-Q9PX-4",
    "status": "captured",
    "bill_amount": 1_000_000,
    "covered_amount": 300_000,
    "captured_amount": 300_000,
    "refunded_amount": 0,
    "currency": "CNY",
    "refund": None,
}
_SETTLEMENT_EXAMPLE: dict[str, Any] = {
    "settlement_id": "0193a1f4-1b2c-7d3e-9f40-516273849506",
    "status": "approved",
    "period_start_on": "2026-10-01",
    "period_end_on": "2026-10-31",
    "total_amount": 48_250_000,
    "currency": "CNY",
    "paid_at": None,
}
_RECONCILIATION_EXAMPLE: dict[str, Any] = {
    "reconciliation_id": "0193a1f5-2c3d-7e4f-8051-627384950617",
    "statement_id": "0193a1f5-0000-7e4f-8051-627384950618",
    "period_start_on": "2026-10-01",
    "period_end_on": "2026-10-31",
    "status": "matched",
    "matched_count": 1532,
    "discrepancy_count": 0,
}

_EXAMPLE_CHANGES: dict[str, dict[str, Any]] = {
    "voucher.bound": {},
    "voucher.frozen": {"status": "frozen", "reason": "under review"},
    "voucher.unfrozen": {},
    "voucher.revoked": {"status": "revoked", "balance_amount": 0, "reason": "contract cancelled"},
    "voucher.expired": {"status": "expired", "balance_amount": 0},
    "voucher.expiring": {"reason": "expires within 30 days"},
    "redemption.captured": {},
    "redemption.voided": {"status": "voided", "captured_amount": 0},
    "redemption.expired": {"status": "expired", "captured_amount": 0},
    "redemption.refunded": {
        "refunded_amount": 100_000,
        "refund": {
            "refund_id": "0193a1f6-3d4e-7f50-8162-738495061728",
            "amount": 100_000,
            "reason": "service credit",
        },
    },
    "settlement.issued": {},
    "settlement.paid": {"status": "paid", "paid_at": "2026-11-20T02:00:00Z"},
    "settlement.resolved": {"status": "cancelled"},
    "reconciliation.completed": {},
}


def example_data(event_type: str) -> dict[str, Any]:
    """A realistic ``data`` example for ``event_type`` (used in the OpenAPI)."""
    if event_type == TEST_EVENT_TYPE:
        return {"message": "Test event requested by an operator."}
    base = {
        VoucherEventData: _VOUCHER_EXAMPLE,
        RedemptionEventData: _REDEMPTION_EXAMPLE,
        SettlementEventData: _SETTLEMENT_EXAMPLE,
        ReconciliationEventData: _RECONCILIATION_EXAMPLE,
    }[DATA_MODELS[event_type]]
    return base | _EXAMPLE_CHANGES[event_type]


def envelope_model(event_type: str) -> type[BaseModel]:
    """The pydantic model of the whole body of ``event_type``, with an example, for OpenAPI."""
    data_model = DATA_MODELS[event_type]
    name = "".join(part.capitalize() for part in event_type.split(".")) + "Webhook"
    example: dict[str, Any] = {
        "type": event_type,
        "timestamp": "2026-11-29T08:15:30.123456Z",
        "data": example_data(event_type),
    }
    type_literal: Any = Literal[event_type]  # built at run time, one per event type
    model: type[BaseModel] = create_model(
        name,
        __config__=ConfigDict(json_schema_extra={"examples": [example]}),
        type=(type_literal, Field(description="the event type")),
        timestamp=(datetime, Field(description="when it happened (RFC 3339, UTC)")),
        data=(data_model, ...),
    )
    return model
