from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from providers.webhooks.errors import InvalidEventData, UnknownEventType
from providers.webhooks.events import (
    DATA_MODELS,
    EVENT_TYPES,
    TEST_EVENT_TYPE,
    check_event_types,
    encode_event,
    envelope_model,
    example_data,
)

MOMENT = datetime(2026, 11, 29, 8, 15, 30, 123456, tzinfo=UTC)


def test_event_types_are_exactly_those_of_the_design() -> None:
    assert EVENT_TYPES == (
        "voucher.bound",
        "voucher.frozen",
        "voucher.unfrozen",
        "voucher.revoked",
        "voucher.expired",
        "voucher.expiring",  # 30 days before (issue 8); not in DESIGN §7's first list
        "redemption.captured",
        "redemption.voided",
        "redemption.expired",
        "redemption.refunded",
        "settlement.issued",
        "settlement.paid",
        "settlement.resolved",  # a dispute resolved (issue 8); not in DESIGN §7's first list
        "reconciliation.completed",
    )
    assert set(DATA_MODELS) == {*EVENT_TYPES, TEST_EVENT_TYPE}


def test_body_is_the_standard_webhooks_envelope() -> None:
    body = encode_event("redemption.captured", example_data("redemption.captured"), MOMENT)
    decoded = json.loads(body)
    assert list(decoded) == ["type", "timestamp", "data"]
    assert decoded["type"] == "redemption.captured"
    assert decoded["timestamp"] == "2026-11-29T08:15:30.123456Z"
    assert decoded["data"]["covered_amount"] == 300_000
    assert " " not in body.split('"order_id"')[0]  # compact separators


def test_python_values_are_accepted_and_serialised() -> None:
    voucher_id = uuid.uuid4()
    data = example_data("voucher.frozen") | {
        "voucher_id": voucher_id,
        "valid_until": MOMENT,
        "reason": "核查中",
    }
    decoded = json.loads(encode_event("voucher.frozen", data, MOMENT))
    assert decoded["data"]["voucher_id"] == str(voucher_id)
    assert decoded["data"]["reason"] == "核查中"


@pytest.mark.parametrize(
    "change",
    [
        {"covered_amount": 1.5},  # money is integer fen
        {"covered_amount": -1},
        {"covered_amount": "100"},
        {"surprise": True},  # unknown fields are a contract change
        {"status": "pending"},
    ],
)
def test_data_must_match_the_published_schema(change: dict[str, object]) -> None:
    data = example_data("redemption.captured") | change
    with pytest.raises(InvalidEventData, match=r"redemption\.captured"):
        encode_event("redemption.captured", data, MOMENT)


def test_unknown_types_are_refused() -> None:
    with pytest.raises(UnknownEventType):
        encode_event("voucher.melted", {}, MOMENT)
    with pytest.raises(UnknownEventType, match=r"voucher\.melted"):
        check_event_types(["voucher.bound", "voucher.melted"])
    with pytest.raises(UnknownEventType, match="at least one"):
        check_event_types([])
    with pytest.raises(UnknownEventType, match="Unknown"):
        check_event_types([TEST_EVENT_TYPE])  # not subscribable: always delivered


def test_subscriptions_are_deduplicated_in_published_order() -> None:
    assert check_event_types(["settlement.paid", "voucher.bound", "settlement.paid"]) == [
        "voucher.bound",
        "settlement.paid",
    ]


@pytest.mark.parametrize("event_type", [*EVENT_TYPES, TEST_EVENT_TYPE])
def test_every_example_is_valid_for_its_envelope(event_type: str) -> None:
    model = envelope_model(event_type)
    example = model.model_json_schema()["examples"][0]
    parsed = model.model_validate(example)
    assert parsed.type == event_type  # type: ignore[attr-defined]
    encode_event(event_type, example["data"], MOMENT)
