"""Provider callbacks: transactional outbox, Standard Webhooks delivery, retries, replay.

The public API (what the application's routes and the other domains call):

- ``emit(session, provider_id, event_type, data)`` (``outbox``): queue an event in the caller's
  transaction; exactly one INSERT.
- ``set_endpoint`` / ``rotate_secret`` / ``send_test_event`` / ``list_notices`` (``endpoints``).
- ``events_query`` / ``attempts_query`` (``history``): the provider's events and delivery log.
- ``replay(session, provider_id, event_ids)`` (``replay``): re-queue dead-lettered events.
- ``delivery_stats(session)`` and ``DeliveryStatsCollector`` (``metrics``).
- ``DeliveryEngine`` (``worker``): what the background job runs.

Nothing here imports the application: it depends on the ledger's column types, SQLModel, httpx,
cryptography and prometheus-client only.
"""

from providers.webhooks.endpoints import (
    EndpointSaved,
    get_endpoint,
    list_notices,
    rotate_secret,
    send_test_event,
    set_endpoint,
)
from providers.webhooks.errors import (
    EndpointDisabled,
    EndpointNotFound,
    EventNotReplayable,
    InvalidEventData,
    UnknownEventType,
    WebhookError,
    WebhookUrlRefused,
)
from providers.webhooks.events import EVENT_TYPES, TEST_EVENT_TYPE
from providers.webhooks.history import attempts_query, events_query
from providers.webhooks.metrics import ProviderDeliveryStats, delivery_stats
from providers.webhooks.outbox import emit
from providers.webhooks.replay import replay

__all__ = [
    "EVENT_TYPES",
    "TEST_EVENT_TYPE",
    "EndpointDisabled",
    "EndpointNotFound",
    "EndpointSaved",
    "EventNotReplayable",
    "InvalidEventData",
    "ProviderDeliveryStats",
    "UnknownEventType",
    "WebhookError",
    "WebhookUrlRefused",
    "attempts_query",
    "delivery_stats",
    "emit",
    "events_query",
    "get_endpoint",
    "list_notices",
    "replay",
    "rotate_secret",
    "send_test_event",
    "set_endpoint",
]
