"""Typed results. Amounts are integers in fen (分); times are aware UTC datetimes.

Every result keeps the JSON it came from in ``raw``, so a field the service adds later is
reachable before the SDK names it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

T = TypeVar("T")
Json = Mapping[str, Any]


def parse_time(value: Any) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def required_time(value: Any) -> datetime:
    moment = parse_time(value)
    if moment is None:
        raise ValueError("a timestamp is missing")
    return moment


@dataclass(frozen=True)
class Usage:
    """What the bill is for: ``resource`` (``gpu_hour``, ``token_1k``...), quantity, unit price."""

    resource: str
    quantity: int | Decimal | str
    unit: str
    unit_price: int

    def to_json(self) -> dict[str, Any]:
        quantity = self.quantity
        return {
            "resource": self.resource,
            "quantity": str(quantity) if isinstance(quantity, Decimal) else quantity,
            "unit": self.unit,
            "unit_price": self.unit_price,
        }


@dataclass(frozen=True)
class Voucher:
    """A voucher this provider may redeem, as ``GET /v1/provider/vouchers/{code}`` shows it."""

    code: str
    status: str
    kind: str
    balance: int
    rate_bp: int
    valid_until: datetime | None
    currency: str = "CNY"
    raw: Json = field(default_factory=dict, repr=False)

    @property
    def redeemable(self) -> bool:
        return self.status == "active" and self.balance > 0

    @classmethod
    def from_json(cls, data: Json) -> Voucher:
        return cls(
            code=data["code"] if "code" in data else data["voucher_code"],
            status=data["status"],
            kind=data["kind"],
            balance=int(data["balance"] if "balance" in data else data["balance_amount"]),
            rate_bp=int(data["rate_bp"]),
            valid_until=parse_time(data.get("valid_until")),
            currency=data.get("currency", "CNY"),
            raw=data,
        )


@dataclass(frozen=True)
class Refund:
    """Money given back to the voucher from a captured redemption."""

    id: uuid.UUID
    redemption_id: uuid.UUID
    amount: int
    reason: str | None
    created_at: datetime
    currency: str = "CNY"
    raw: Json = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, data: Json) -> Refund:
        return cls(
            id=uuid.UUID(str(data["id"])),
            redemption_id=uuid.UUID(str(data["redemption_id"])),
            amount=int(data["amount"]),
            reason=data.get("reason"),
            created_at=required_time(data["created_at"]),
            currency=data.get("currency", "CNY"),
            raw=data,
        )


@dataclass(frozen=True)
class Redemption:
    """A redemption: ``authorized`` (a hold until ``expires_at``), ``captured``, ``voided`` or
    ``expired``. ``enterprise_payable`` is what the enterprise still owes on the bill.

    In a list (``list_redemptions``) ``voucher_balance`` and ``receipt`` are None: get the
    redemption for them."""

    id: uuid.UUID
    status: str
    voucher_code: str
    order_id: str
    bill_amount: int
    covered_amount: int
    enterprise_payable: int
    voucher_balance: int | None
    expires_at: datetime | None
    receipt: str | None
    created_at: datetime
    captured_amount: int = 0
    refunded_amount: int = 0
    currency: str = "CNY"
    rate_bp: int | None = None
    usage: Json | None = None
    captured_at: datetime | None = None
    refunds: tuple[Refund, ...] = ()
    raw: Json = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, data: Json) -> Redemption:
        return cls(
            id=uuid.UUID(str(data["id"])),
            status=data["status"],
            voucher_code=data["voucher_code"],
            order_id=data["order_id"],
            bill_amount=int(data["bill_amount"]),
            covered_amount=int(data["covered_amount"]),
            enterprise_payable=int(data["enterprise_payable"]),
            voucher_balance=data.get("voucher_balance"),
            expires_at=parse_time(data.get("expires_at")),
            receipt=data.get("receipt"),
            created_at=required_time(data["created_at"]),
            captured_amount=int(data.get("captured_amount") or 0),
            refunded_amount=int(data.get("refunded_amount") or 0),
            currency=data.get("currency", "CNY"),
            rate_bp=data.get("rate_bp"),
            usage=data.get("usage"),
            captured_at=parse_time(data.get("captured_at")),
            refunds=tuple(Refund.from_json(r) for r in data.get("refunds") or ()),
            raw=data,
        )


@dataclass(frozen=True)
class RefundResult:
    """A refund, and the redemption after it."""

    refund: Refund
    redemption: Redemption

    @classmethod
    def from_json(cls, data: Json) -> RefundResult:
        return cls(Refund.from_json(data["refund"]), Redemption.from_json(data["redemption"]))


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a keyset-paginated list; pass ``next_cursor`` to get the next one."""

    items: list[T]
    next_cursor: str | None

    @classmethod
    def parse(cls, data: Json, item: Callable[[Json], T]) -> Page[T]:
        return cls(items=[item(row) for row in data["items"]], next_cursor=data.get("next_cursor"))


@dataclass(frozen=True)
class ProviderIdentity:
    """Who the credentials belong to (``GET /v1/provider/me``)."""

    client_id: str
    organisation_id: uuid.UUID
    scopes: tuple[str, ...]

    @classmethod
    def from_json(cls, data: Json) -> ProviderIdentity:
        return cls(
            client_id=data["client_id"],
            organisation_id=uuid.UUID(str(data["organisation_id"])),
            scopes=tuple(data.get("scopes") or ()),
        )


@dataclass(frozen=True)
class Receipt:
    """A verified ledger receipt: the transaction as the service signed it."""

    key_id: str
    transaction_id: uuid.UUID
    content_hash: str
    legs: tuple[Json, ...]
    issued_at: datetime | None
    transaction: Json
    checkpoint: Json | None
    raw: Json = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class WebhookEvent:
    """A webhook whose signature verified: ``{"type", "timestamp", "data"}`` and its id."""

    id: str
    type: str
    timestamp: datetime
    data: Json


@dataclass(frozen=True)
class CallbackAccepted:
    """What the service did with a callback; a retry of it gets the same answer."""

    id: str
    type: str
    outcome: Json
    replayed: bool
    receipt_id: uuid.UUID
    received_at: datetime

    @classmethod
    def from_json(cls, data: Json) -> CallbackAccepted:
        return cls(
            id=data["id"],
            type=data["type"],
            outcome=data.get("outcome") or {},
            replayed=bool(data.get("replayed")),
            receipt_id=uuid.UUID(str(data["receipt_id"])),
            received_at=required_time(data["received_at"]),
        )
