"""The answer to a callback, and the OpenAPI documentation of how to sign one."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from providers.callbacks import SIGNATURE_TYPE, CallbackEnvelope, CallbackReceipt
from providers.callbacks.envelope import EXAMPLE
from providers.callbacks.registry import CallbackRegistry

SIGNATURE_EXAMPLE = (
    "eyJhbGciOiJFUzI1NiIsImtpZCI6InByb3Yta2V5LTIwMjYiLCJ0eXAiOiJjYWxsYmFjaytqd3MifQ"
    "..bU0vSO8RkqHpoYv6bRf_ymqRCZ0q3Oy-lFj9xbTUo9g4TJrTZR8JvjqfHw2JQ0xBr5WJ3GKpJkBqHqNcKfLr6A"
)

SCHEME = f"""
Tell the authority something it can hold you to: a usage statement for reconciliation, the
confirmation or dispute of a settlement. The body is `{{"id", "type", "timestamp", "data"}}`.

**Who.** The bearer access token of one of your API clients (client credentials grant) **and**
a signature made with the private key registered for that same client: only `private_key_jwt`
clients can send callbacks (`callback_signing_key_required` otherwise). A shared secret would let
us forge your statements; your own key makes them yours.

**Signature.** A JWS with a detached payload (RFC 7515 appendix F) over the exact body bytes,
protected header `{{"alg": "ES256", "typ": "{SIGNATURE_TYPE}", "kid": "<optional>"}}` (`RS256` for
an RSA key), sent as `<header>..<signature>` in the `JWS-Signature` header. With python-jose:

```python
body = json.dumps({{"id": "stmt-2026-10-0001", "type": "statement.submitted",
                   "timestamp": now_rfc3339(), "data": {{...}}}}).encode()
token = jws.sign(body, private_jwk, headers={{"typ": "{SIGNATURE_TYPE}"}}, algorithm="ES256")
header, _, signature = token.split(".")
httpx.post(url, content=body, headers={{"Authorization": f"Bearer {{access_token}}",
           "JWS-Signature": f"{{header}}..{{signature}}", "Content-Type": "application/json"}})
```

Refused: no signature (`callback_signature_missing`); a signature that is malformed, of another
`typ` or algorithm, by an unregistered key, or not over these bytes (`callback_signature_invalid`).
During a key rotation's grace period the previous key verifies too.

**Freshness.** `timestamp` is when you signed; more than 5 minutes from our clock
(`VOUCHER_CALLBACK_TOLERANCE_SECONDS`) is refused (`callback_stale`).

**Idempotency.** `id` is yours, unique per provider. The same `id` with the same `type` and
`data` (a retry, signed again with a fresh timestamp) returns the stored outcome with
`replayed: true` and changes nothing; the same `id` with other content is refused
(`callback_id_reused`). A refused callback is not stored: fix it and send it again.

**Types.** `type` chooses the handler; `data` must match its schema (`callback_data_invalid`)
and some types need a scope on your token (`callback_scope_missing`); an unknown type is
`callback_type_unknown`.
"""


def describe(registry: CallbackRegistry) -> str:
    """The scheme, and the types registered when the app is built."""
    lines = [
        f"- `{r.callback_type}`: scope `{r.scope or 'none'}`, data `{r.data_model.__name__}`"
        for r in registry.registrations()
    ]
    return SCHEME + "\nRegistered types:\n\n" + "\n".join(lines) + "\n"


REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": CallbackEnvelope.model_json_schema(),
                "example": EXAMPLE,
            }
        },
    }
}


class CallbackReceiptPublic(BaseModel):
    """What we did with a callback (the same answer for every retry of it)."""

    receipt_id: uuid.UUID = Field(description="our id for the stored callback")
    id: str = Field(description="your callback id")
    type: str
    received_at: datetime = Field(description="when we first accepted it")
    replayed: bool = Field(description="true when this was a retry of an accepted callback")
    outcome: dict[str, Any] = Field(description="what the type's handler answered")

    @classmethod
    def of(cls, receipt: CallbackReceipt) -> CallbackReceiptPublic:
        record = receipt.record
        return cls(
            receipt_id=record.id,
            id=record.callback_id,
            type=record.callback_type,
            received_at=record.created_at,
            replayed=receipt.replayed,
            outcome=record.outcome or {},
        )
