"""Verifying the service's webhooks (Standard Webhooks).

A delivery carries ``webhook-id``, ``webhook-timestamp`` (Unix seconds) and
``webhook-signature``: one or more space-separated ``v1,<base64 HMAC-SHA256>`` of
``"{id}.{timestamp}.{body}"`` under the endpoint's ``whsec_`` secret (several while the secret
is being rotated). Verify the raw body bytes exactly as received, before parsing them; refuse a
timestamp outside the tolerance (a replayed delivery); remember ``webhook-id`` to drop repeats
(the service retries until you answer 2xx).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Iterable, Mapping

from providers.sdk.errors import WebhookVerificationError
from providers.sdk.models import WebhookEvent, required_time

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
DEFAULT_TOLERANCE_SECONDS = 300


def secret_key(secret: str) -> bytes:
    """The key bytes of a ``whsec_...`` secret."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WebhookVerificationError("the webhook secret is not whsec_<base64>") from exc


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    raise WebhookVerificationError(f"the {name} header is missing")


def _timestamp(value: str, now: float, tolerance: int) -> int:
    try:
        timestamp = int(value)
    except ValueError as exc:
        raise WebhookVerificationError("webhook-timestamp is not an integer") from exc
    if abs(now - timestamp) > tolerance:
        raise WebhookVerificationError("webhook-timestamp is outside the tolerance")
    return timestamp


def _signatures(header: str) -> list[bytes]:
    found = []
    for part in header.split():
        version, _, encoded = part.partition(",")
        if version != "v1":
            continue
        try:
            found.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    return found


def verify_webhook(
    headers: Mapping[str, str],
    body: bytes,
    secret: str | Iterable[str],
    *,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> WebhookEvent:
    """The event in ``body`` if one of its signatures matches one of the secrets; raises
    ``WebhookVerificationError`` otherwise. ``secret`` may be several (during your own
    rotation); ``headers`` may be any mapping (names are matched without case)."""
    msg_id = _header(headers, "webhook-id")
    timestamp = _timestamp(_header(headers, "webhook-timestamp"), now or time.time(), tolerance)
    offered = _signatures(_header(headers, "webhook-signature"))
    signed = b"%s.%d.%s" % (msg_id.encode(), timestamp, body)
    secrets = [secret] if isinstance(secret, str) else list(secret)
    expected = [hmac.new(secret_key(s), signed, hashlib.sha256).digest() for s in secrets]
    # Compare every pair (no early exit), each in constant time.
    matched = False
    for mine in expected:
        for theirs in offered:
            matched |= hmac.compare_digest(mine, theirs)
    if not matched:
        raise WebhookVerificationError("no webhook-signature matches")
    return _event(msg_id, body)


def _event(msg_id: str, body: bytes) -> WebhookEvent:
    try:
        payload = json.loads(body)
        return WebhookEvent(
            id=msg_id,
            type=str(payload["type"]),
            timestamp=required_time(payload["timestamp"]),
            data=dict(payload["data"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise WebhookVerificationError(f"the signed body is not a webhook event: {exc!r}") from exc
