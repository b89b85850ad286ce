"""The callback envelope (parsing, freshness, "same content") and the handler registry."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from providers.callbacks.envelope import check_fresh, content_fingerprint, parse_envelope
from providers.callbacks.errors import (
    CallbackDataInvalid,
    CallbackInvalid,
    CallbackMalformed,
    CallbackScopeMissing,
    CallbackStale,
    CallbackTypeUnknown,
)
from providers.callbacks.registry import CallbackRegistry, ReceivedCallback

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def body(**changes: Any) -> bytes:
    envelope = {"id": "s-1", "type": "statement.submitted", "timestamp": "2026-11-29T08:00:00Z"}
    return json.dumps(envelope | {"data": {"lines": [1, 2]}} | changes).encode()


def test_a_well_formed_envelope_parses() -> None:
    envelope = parse_envelope(body())
    assert (envelope.id, envelope.type, envelope.timestamp) == ("s-1", "statement.submitted", NOW)
    assert envelope.data == {"lines": [1, 2]}


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[1, 2]",
        b'{"id": "a", "id": "b", "type": "x.y", "timestamp": "2026-11-29T08:00:00Z", "data": {}}',
        b'{"id": "a", "type": "x.y", "timestamp": "2026-11-29T08:00:00Z", "data": {"n": NaN}}',
        b"\xff\xfe",
        '{"id": "a", "type": "x.y", "timestamp": "2026-11-29T08:00:00Z", "data": {}}'.encode(
            "utf-16"
        ),
    ],
)
def test_bodies_that_are_not_one_unambiguous_json_object_are_malformed(raw: bytes) -> None:
    with pytest.raises(CallbackMalformed):
        parse_envelope(raw)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"extra": 1}, "extra"),
        ({"id": "has space"}, "id"),
        ({"id": "x" * 201}, "id"),
        ({"type": "Statement"}, "type"),
        ({"type": "statement"}, "type"),
        ({"timestamp": "2026-11-29T08:00:00"}, "timestamp"),  # no time zone
        ({"data": [1]}, "data"),
    ],
)
def test_envelope_fields_are_checked(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(CallbackInvalid, match=field):
        parse_envelope(body(**changes))


def test_freshness_is_checked_both_ways() -> None:
    envelope = parse_envelope(body())
    tolerance = timedelta(minutes=5)
    check_fresh(envelope, NOW + tolerance, tolerance)
    check_fresh(envelope, NOW - tolerance, tolerance)
    for now in (NOW + tolerance + timedelta(seconds=1), NOW - tolerance - timedelta(seconds=1)):
        with pytest.raises(CallbackStale, match="at most 300 s"):
            check_fresh(envelope, now, tolerance)


def test_same_content_ignores_timestamp_and_member_order_only() -> None:
    first = parse_envelope(body())
    retry = parse_envelope(
        b'{"data": {"lines": [1, 2]}, "timestamp": "2026-11-29T08:04:00+08:00",'
        b' "type": "statement.submitted", "id": "s-1"}'
    )
    assert content_fingerprint(first) == content_fingerprint(retry)
    for other in (body(data={"lines": [2, 1]}), body(type="statement.corrected")):
        assert content_fingerprint(parse_envelope(other)) != content_fingerprint(first)


class Confirmation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    settlement_id: str


async def confirm(
    _session: AsyncSession, callback: ReceivedCallback[Confirmation]
) -> dict[str, Any]:
    return {"settlement_id": callback.data.settlement_id}


def test_registration_is_checked() -> None:
    registry = CallbackRegistry()
    registration = registry.register(
        "settlement.confirmed", data=Confirmation, handler=confirm, scope="settlements:write"
    )
    assert registry.get("settlement.confirmed") is registration
    with pytest.raises(ValueError, match="already has a handler"):
        registry.register("settlement.confirmed", data=Confirmation, handler=confirm, scope=None)
    with pytest.raises(ValueError, match="not a callback type"):
        registry.register("Settlement", data=Confirmation, handler=confirm, scope=None)
    with pytest.raises(ValueError, match="unknown scope"):
        registry.register("settlement.disputed", data=Confirmation, handler=confirm, scope="root")

    @registry.handler("settlement.disputed", data=Confirmation, scope=None)
    async def dispute(
        _session: AsyncSession, callback: ReceivedCallback[Confirmation]
    ) -> dict[str, Any]:
        return {}

    assert [r.callback_type for r in registry.registrations()] == [
        "settlement.confirmed",
        "settlement.disputed",
    ]
    registry.unregister("settlement.disputed")
    with pytest.raises(CallbackTypeUnknown, match=r"known types: settlement\.confirmed"):
        registry.get("settlement.disputed")


def test_scope_and_data_are_checked_per_type() -> None:
    registration = CallbackRegistry().register(
        "settlement.confirmed", data=Confirmation, handler=confirm, scope="settlements:write"
    )
    registration.check_scope({"settlements:write", "vouchers:read"})
    with pytest.raises(CallbackScopeMissing, match="settlements:write"):
        registration.check_scope({"vouchers:read"})
    assert registration.parse({"settlement_id": "s"}) == Confirmation(settlement_id="s")
    with pytest.raises(CallbackDataInvalid, match="settlement_id"):
        registration.parse({"settlement": "s"})
