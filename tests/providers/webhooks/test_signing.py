"""Our signatures verify with the independent ``standardwebhooks`` implementation."""

from __future__ import annotations

import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from providers.webhooks.signing import (
    format_secret,
    generate_secret,
    parse_secret,
    sign,
    webhook_headers,
)

BODY = b'{"type":"voucher.frozen","timestamp":"2026-11-29T08:15:30.123456Z","data":{}}'


def test_secret_round_trips_through_the_whsec_form() -> None:
    key = generate_secret()
    secret = format_secret(key)
    assert secret.startswith("whsec_") and len(key) == 32
    assert parse_secret(secret) == key
    with pytest.raises(ValueError, match="whsec_"):
        parse_secret("sk_" + secret)


def test_signature_verifies_with_standardwebhooks() -> None:
    key = generate_secret()
    headers = webhook_headers("evt_1", int(time.time()), BODY, [key])
    assert Webhook(format_secret(key)).verify(BODY, headers) == {
        "type": "voucher.frozen",
        "timestamp": "2026-11-29T08:15:30.123456Z",
        "data": {},
    }


def test_rotation_sends_two_signatures_each_secret_verifies() -> None:
    new, old = generate_secret(), generate_secret()
    headers = webhook_headers("evt_2", int(time.time()), BODY, [new, old])
    assert len(headers["webhook-signature"].split(" ")) == 2
    for key in (new, old):
        Webhook(format_secret(key)).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        Webhook(format_secret(generate_secret())).verify(BODY, headers)


def test_tampered_body_is_refused() -> None:
    key = generate_secret()
    headers = webhook_headers("evt_3", int(time.time()), BODY, [key])
    tampered = BODY.replace(b"frozen", b"unfrozen")
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        Webhook(format_secret(key)).verify(tampered, headers)


def test_tampered_id_is_refused() -> None:
    key = generate_secret()
    headers = webhook_headers("evt_4", int(time.time()), BODY, [key])
    with pytest.raises(WebhookVerificationError):
        Webhook(format_secret(key)).verify(BODY, headers | {"webhook-id": "evt_5"})


def test_old_timestamp_is_refused() -> None:
    key = generate_secret()
    ten_minutes_ago = int(time.time()) - 600
    headers = webhook_headers("evt_6", ten_minutes_ago, BODY, [key])
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(format_secret(key)).verify(BODY, headers)


def test_signature_is_hmac_sha256_of_id_timestamp_body() -> None:
    # A fixed vector, so a change in what is signed cannot pass unnoticed.
    key = bytes(range(32))
    assert sign("msg_1", 1_700_000_000, b"{}", key) == (
        "v1,fhksJF5ElKjlPoT/jtefCO5XjQPvhf7Dhf/8R1ad9yU="
    )


def test_no_key_no_signature() -> None:
    with pytest.raises(ValueError, match="at least one"):
        webhook_headers("evt_7", 1, BODY, [])
