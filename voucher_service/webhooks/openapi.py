"""The payload of every event type in the OpenAPI ``webhooks`` section, with examples."""

from __future__ import annotations

import functools
import inspect
from typing import Annotated

from fastapi import APIRouter, FastAPI, Header

from providers.webhooks.events import (
    DATA_MODELS,
    EVENT_TYPES,
    PAYLOAD_VERSION,
    TEST_EVENT_TYPE,
    envelope_model,
)

DELIVERY_NOTES = f"""
Sent as a `POST` with a JSON body `{{"type", "timestamp", "data"}}` (payload version
{PAYLOAD_VERSION}), signed per [Standard Webhooks](https://www.standardwebhooks.com/): verify
`webhook-signature` (`v1,<base64 HMAC-SHA256 of "{{webhook-id}}.{{webhook-timestamp}}.{{body}}">`,
several space-separated signatures while a secret rotation overlaps) with your `whsec_` secret,
for instance with the `standardwebhooks` libraries, and refuse timestamps more than five minutes
old. `webhook-id` stays the same across retries: use it to ignore duplicates (delivery is at
least once).

Answer any 2xx within 10 seconds. Anything else is retried: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
14 h, 20 h and 24 h after the previous attempt (±10 %), never earlier than your `Retry-After`;
redirects are not followed and count as failures. 410 Gone disables the endpoint. After the last
attempt the event is dead-lettered; you can replay it once the cause is fixed.
"""

_HEADERS = {
    "webhook_id": "unique id of the event; the same on every retry",
    "webhook_timestamp": "seconds since the epoch when this attempt was signed",
    "webhook_signature": "space-separated `v1,<base64 signature>` values",
}


def _documentation_endpoint(event_type: str) -> object:
    """A do-nothing function whose signature tells FastAPI the body and headers of the event."""

    async def receive() -> None:  # pragma: no cover - never called, only documented
        return None

    parameters = [
        inspect.Parameter(
            "body", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=envelope_model(event_type)
        )
    ] + [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[str, Header(description=description)],
        )
        for name, description in _HEADERS.items()
    ]
    receive.__signature__ = inspect.Signature(parameters, return_annotation=None)  # type: ignore[attr-defined]
    return receive


def install_webhook_docs(app: FastAPI) -> None:
    """Declare every event type (and the test event) under the OpenAPI ``webhooks``."""
    app.webhooks.routes.extend(_webhook_docs().routes)


@functools.cache
def _webhook_docs() -> APIRouter:
    """The documentation routes, made once per process (each builds a pydantic model)."""
    docs = APIRouter()
    for event_type in (*EVENT_TYPES, TEST_EVENT_TYPE):
        data_model = DATA_MODELS[event_type]
        docs.add_api_route(
            event_type,
            _documentation_endpoint(event_type),  # type: ignore[arg-type]
            methods=["POST"],
            summary=f"{event_type}: {(data_model.__doc__ or '').strip()}",
            description=DELIVERY_NOTES,
            status_code=204,
            tags=["webhooks"],
            responses={
                204: {"description": "Any 2xx acknowledges the event."},
                410: {"description": "Gone: we disable the endpoint and stop sending."},
            },
        )
    return docs
