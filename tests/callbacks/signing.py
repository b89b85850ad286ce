"""How a provider signs a callback, as the OpenAPI description tells it to (python-jose)."""

from __future__ import annotations

import json
from typing import Any

from jose import jws

from ledger.sqltypes import utcnow
from providers.callbacks import SIGNATURE_TYPE
from providers.webhooks.events import format_timestamp


def envelope(
    callback_id: str, callback_type: str, data: dict[str, Any], *, timestamp: str | None = None
) -> bytes:
    """The body of a callback, signed now unless ``timestamp`` says otherwise."""
    body = {
        "id": callback_id,
        "type": callback_type,
        "timestamp": timestamp or format_timestamp(utcnow()),
        "data": data,
    }
    return json.dumps(body).encode()


def sign(body: bytes, private_key: str, *, algorithm: str = "ES256", **header: Any) -> str:
    """The ``JWS-Signature`` value: a compact JWS over ``body`` with the payload left out."""
    token = jws.sign(
        body, private_key, headers={"typ": SIGNATURE_TYPE} | header, algorithm=algorithm
    )
    protected, _, signature = token.split(".")
    return f"{protected}..{signature}"
