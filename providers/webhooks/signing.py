"""Standard Webhooks signatures: ``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``.

Secrets are ``whsec_`` followed by the base64 of 32 random bytes (the spec asks for 24 to 64).
During a rotation the header carries one ``v1,`` signature per valid secret, separated by spaces,
so receivers accept the message with either secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
SECRET_BYTES = 32


def generate_secret() -> bytes:
    """New random key material for an endpoint."""
    return secrets.token_bytes(SECRET_BYTES)


def format_secret(key: bytes) -> str:
    """The ``whsec_`` form shown to the provider (once)."""
    return SECRET_PREFIX + base64.b64encode(key).decode()


def parse_secret(secret: str) -> bytes:
    """The key bytes of a ``whsec_`` secret."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("webhook secrets start with whsec_")
    return base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)


def sign(msg_id: str, timestamp: int, body: bytes, key: bytes) -> str:
    """One ``v1,<signature>`` for ``body`` sent as message ``msg_id`` at ``timestamp``."""
    signed = b"%s.%d.%s" % (msg_id.encode(), timestamp, body)
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(msg_id: str, timestamp: int, body: bytes, keys: Sequence[bytes]) -> str:
    """The ``webhook-signature`` value: a signature per key, space-separated."""
    if not keys:
        raise ValueError("at least one signing key is needed")
    return " ".join(sign(msg_id, timestamp, body, key) for key in keys)


def webhook_headers(
    msg_id: str, timestamp: int, body: bytes, keys: Sequence[bytes]
) -> dict[str, str]:
    """All headers of a delivery request."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(msg_id, timestamp, body, keys),
        "content-type": "application/json",
    }
