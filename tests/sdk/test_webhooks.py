"""The webhook verifier against the service's own signer and its delivery worker."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

from providers.sdk import WebhookVerificationError, verify_webhook
from providers.webhooks import emit
from providers.webhooks.events import encode_event, example_data
from providers.webhooks.secrets import SecretBox
from providers.webhooks.signing import format_secret, generate_secret, parse_secret, webhook_headers
from providers.webhooks.ssrf import UrlGuard
from tests.providers.webhooks.conftest import (
    box,
    clock,
    create_endpoint,
    guard,
    make_engine,
    receiver,
)
from tests.providers.webhooks.receiver import Receiver
from voucher_service.db import Database

__all__ = ["box", "clock", "guard", "make_engine", "receiver"]


def signed(secrets: list[str], *, at: int | None = None, event: str = "redemption.captured"):  # type: ignore[no-untyped-def]
    body = encode_event(event, example_data(event), datetime.now(UTC)).encode()
    stamp = at if at is not None else int(time.time())
    headers = webhook_headers("msg_1", stamp, body, [parse_secret(s) for s in secrets])
    return headers, body


def test_a_delivery_signed_by_the_service_verifies() -> None:
    secret = format_secret(generate_secret())
    headers, body = signed([secret])
    event = verify_webhook(headers, body, secret)
    assert (event.id, event.type) == ("msg_1", "redemption.captured")
    assert event.data == example_data("redemption.captured")
    upper = {name.upper(): value for name, value in headers.items()}
    assert verify_webhook(upper, body, secret).id == "msg_1"


def test_during_a_rotation_either_secret_verifies() -> None:
    old, new = format_secret(generate_secret()), format_secret(generate_secret())
    headers, body = signed([new, old])
    assert " " in headers["webhook-signature"]
    assert verify_webhook(headers, body, old).type == "redemption.captured"
    assert verify_webhook(headers, body, new).type == "redemption.captured"
    assert verify_webhook(headers, body, [format_secret(generate_secret()), old])


@pytest.mark.parametrize(
    "spoil",
    [
        lambda h, b: (h, b.replace(b'"captured"', b'"voided"')),
        lambda h, b: ({**h, "webhook-id": "msg_2"}, b),
        lambda h, b: ({**h, "webhook-signature": "v2," + h["webhook-signature"][3:]}, b),
        lambda h, b: ({**h, "webhook-signature": "v1,bm90LWJhc2U2NA=="}, b),
        lambda h, b: ({k: v for k, v in h.items() if k != "webhook-signature"}, b),
        lambda h, b: ({**h, "webhook-timestamp": "soon"}, b),
    ],
    ids=["body", "id", "version", "signature", "missing", "timestamp"],
)
def test_anything_changed_is_refused(spoil) -> None:  # type: ignore[no-untyped-def]
    secret = format_secret(generate_secret())
    headers, body = spoil(*signed([secret]))
    with pytest.raises(WebhookVerificationError):
        verify_webhook(headers, body, secret)


def test_wrong_secret_and_stale_or_future_timestamps_are_refused() -> None:
    secret = format_secret(generate_secret())
    headers, body = signed([secret])
    with pytest.raises(WebhookVerificationError, match="no webhook-signature"):
        verify_webhook(headers, body, format_secret(generate_secret()))
    for skew in (-301, 301):
        headers, body = signed([secret], at=int(time.time()) + skew)
        with pytest.raises(WebhookVerificationError, match="tolerance"):
            verify_webhook(headers, body, secret)
    headers, body = signed([secret], at=int(time.time()) - 3000)
    assert verify_webhook(headers, body, secret, tolerance=3600)


def test_interoperates_with_the_standard_webhooks_library() -> None:
    secret = format_secret(generate_secret())
    body = encode_event("webhook.test", {"message": "hi"}, datetime.now(UTC))
    stamp = datetime.now(UTC)
    signature = Webhook(secret).sign("msg_9", stamp, body)
    headers = {
        "webhook-id": "msg_9",
        "webhook-timestamp": str(int(stamp.timestamp())),
        "webhook-signature": signature,
    }
    assert verify_webhook(headers, body.encode(), secret).data == {"message": "hi"}


async def test_a_real_delivery_from_the_worker_verifies(
    database: Database,
    box: SecretBox,
    guard: UrlGuard,
    receiver: Receiver,
    make_engine,  # type: ignore[no-untyped-def]
) -> None:
    provider_id, saved = await create_endpoint(database, box, guard, receiver.url())
    assert saved.secret is not None
    async with database.unit_of_work() as session:
        emit(session, provider_id, "voucher.frozen", example_data("voucher.frozen"))
    await make_engine().run(budget=5)
    [delivery] = receiver.for_path("/hook")
    event = verify_webhook(delivery.headers, delivery.body, saved.secret)
    assert event.type == "voucher.frozen"
    assert event.data["voucher_code"] == example_data("voucher.frozen")["voucher_code"]
