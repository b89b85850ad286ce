"""Request and response shapes of the webhook routes (providers and the authority)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from providers.webhooks.endpoints import EndpointSaved
from providers.webhooks.events import EVENT_TYPES
from providers.webhooks.models import (
    DEAD,
    DELIVERED,
    PENDING,
    SKIPPED,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookEvent,
    WebhookNotice,
)
from providers.webhooks.replay import MAX_REPLAY_IDS
from providers.webhooks.ssrf import MAX_URL_LENGTH

_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)
_READ = ConfigDict(from_attributes=True)


class EventStatus(StrEnum):
    """Where an event is: waiting (or retrying), delivered, dead-lettered, or skipped."""

    pending = PENDING
    delivered = DELIVERED
    dead = DEAD
    skipped = SKIPPED


class WebhookEndpointSet(BaseModel):
    """The endpoint to send events to and the event types it wants."""

    model_config = _STRICT

    url: str = Field(
        min_length=1,
        max_length=MAX_URL_LENGTH,
        description="https URL (http only in development); must resolve to a public address",
        examples=["https://hooks.provider.example.cn/voucher"],
    )
    events: list[str] = Field(
        min_length=1,
        max_length=len(EVENT_TYPES),
        description="event types to receive: " + ", ".join(EVENT_TYPES),
        examples=[["redemption.captured", "settlement.issued"]],
    )


class WebhookEndpointPublic(BaseModel):
    """The endpoint as its provider sees it; never a secret."""

    model_config = _READ

    url: str
    events: list[str] = Field(validation_alias="event_types")
    created_at: datetime
    updated_at: datetime
    disabled_at: datetime | None = Field(description="set when the endpoint answered 410 Gone")
    disabled_reason: str | None
    previous_secret_expires_at: datetime | None = Field(
        description="until then the previous secret still signs (rotation overlap)"
    )

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> WebhookEndpointPublic:
        return cls.model_validate(endpoint)


class WebhookEndpointSaved(WebhookEndpointPublic):
    secret: str | None = Field(
        default=None,
        description="the `whsec_` signing secret: only in the 201 answer to the first save, "
        "never again (rotate to get a new one); store it in your secret manager now",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )

    @classmethod
    def of_saved(cls, saved: EndpointSaved) -> WebhookEndpointSaved:
        return cls.model_validate(saved.endpoint).model_copy(update={"secret": saved.secret})


class WebhookSecretRotated(BaseModel):
    secret: str = Field(description="the new `whsec_` secret, shown in this answer only")
    previous_secret_expires_at: datetime | None = Field(
        description="the old secret signs too (a second signature) until then"
    )


class WebhookTestQueued(BaseModel):
    event_id: uuid.UUID = Field(description="the `webhook-id` the test event is sent with")


class WebhookEventPublic(BaseModel):
    """An event and the state of its delivery."""

    model_config = _READ

    id: uuid.UUID = Field(description="also the `webhook-id` header of every attempt")
    type: str = Field(validation_alias="event_type")
    status: EventStatus
    created_at: datetime
    attempt_count: int
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None = Field(description="when a pending event is tried next")
    delivered_at: datetime | None
    dead_lettered_at: datetime | None


class WebhookEventDetail(WebhookEventPublic):
    payload: dict[str, Any] = Field(description="the exact body that is signed and sent")

    @classmethod
    def of(cls, event: WebhookEvent) -> WebhookEventDetail:
        fields = {name: getattr(event, name) for name in WebhookEvent.model_fields}
        return cls.model_validate({**fields, "payload": json.loads(event.payload)})


class WebhookAttemptPublic(BaseModel):
    """One HTTP attempt: the delivery log."""

    model_config = _READ

    id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    attempt_number: int
    attempted_at: datetime = Field(validation_alias="created_at")
    outcome: str = Field(description="delivered, failed, gone (410) or lost (worker died)")
    url: str
    status_code: int | None
    latency_ms: int | None
    error: str | None
    next_attempt_at: datetime | None = Field(description="the retry this attempt scheduled")

    @classmethod
    def of(cls, attempt: WebhookAttempt, event_type: str) -> WebhookAttemptPublic:
        fields = {name: getattr(attempt, name) for name in WebhookAttempt.model_fields}
        return cls.model_validate({**fields, "event_type": event_type})


class WebhookNoticePublic(BaseModel):
    """Something the provider's operators must act on (the portal shows these)."""

    model_config = _READ

    id: uuid.UUID
    created_at: datetime
    kind: str = Field(examples=["endpoint_disabled"])
    message: str
    message_zh: str
    url: str
    event_id: uuid.UUID | None
    resolved_at: datetime | None = Field(description="set once the endpoint is saved again")

    @classmethod
    def of(cls, notice: WebhookNotice) -> WebhookNoticePublic:
        return cls.model_validate(notice)


class WebhookReplay(BaseModel):
    """Which dead-lettered events to send again: the given ones, or all of them."""

    model_config = _STRICT

    event_ids: list[uuid.UUID] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_REPLAY_IDS,
        description="omit to replay every dead-lettered event",
    )


class WebhookReplayed(BaseModel):
    replayed: list[uuid.UUID] = Field(description="events queued again, each with a new schedule")


class EndpointState(BaseModel):
    url: str
    disabled_at: datetime | None


class ProviderDeliveryMetrics(BaseModel):
    """Delivery figures of one provider (the same ones /metrics exports)."""

    provider_id: uuid.UUID
    provider_name: str
    pending: int = Field(description="never attempted yet")
    retrying: int = Field(description="failed at least once (or replayed), to be tried again")
    delivered: int
    dead_lettered: int
    oldest_pending_at: datetime | None
    oldest_pending_age_seconds: float = Field(description="0 when nothing is waiting")
    endpoint: EndpointState | None


class DeliveryMetricsList(BaseModel):
    items: list[ProviderDeliveryMetrics]
