"""The webhook engine's exceptions as problem responses (imported by the app before it starts)."""

from __future__ import annotations

from providers.webhooks import errors
from voucher_service.kit.problems import register_foreign

# InvalidEventData is left out on purpose: a domain emitting data that does not match the
# published schema is a bug, and a bug is a 500.
STATUSES: dict[type[errors.WebhookError], int] = {
    errors.WebhookUrlRefused: 422,
    errors.UnknownEventType: 422,
    errors.EndpointNotFound: 404,
    errors.EndpointDisabled: 409,
    errors.EventNotReplayable: 409,
}

for _exc_type, _status in STATUSES.items():
    register_foreign(_exc_type, _status)
