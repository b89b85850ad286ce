"""A provider's endpoint: save it, rotate its secret, send a test event, disable it, notices.

Each function takes the caller's session and flushes; the caller's unit of work commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ledger.sqltypes import new_id, utcnow
from providers.webhooks.errors import EndpointDisabled, EndpointNotFound
from providers.webhooks.events import TEST_EVENT_TYPE, check_event_types
from providers.webhooks.history import notices_query
from providers.webhooks.models import WebhookEndpoint, WebhookNotice
from providers.webhooks.outbox import queue_event
from providers.webhooks.secrets import SecretBox
from providers.webhooks.signing import format_secret, generate_secret
from providers.webhooks.ssrf import UrlGuard

DEFAULT_ROTATION_OVERLAP = timedelta(hours=24)
MAX_ROTATION_OVERLAP = timedelta(days=7)
ENDPOINT_DISABLED = "endpoint_disabled"


@dataclass(frozen=True)
class EndpointSaved:
    """The saved endpoint, and its ``whsec_`` secret when it was just created (shown once)."""

    endpoint: WebhookEndpoint
    secret: str | None


async def find_endpoint(
    session: AsyncSession, provider_id: uuid.UUID, *, for_update: bool = False
) -> WebhookEndpoint | None:
    """The provider's endpoint, if it has one."""
    query = select(WebhookEndpoint).where(col(WebhookEndpoint.provider_id) == provider_id)
    if for_update:
        query = query.with_for_update()
    return (await session.scalars(query)).one_or_none()


async def get_endpoint(
    session: AsyncSession, provider_id: uuid.UUID, *, for_update: bool = False
) -> WebhookEndpoint:
    """The provider's endpoint, or EndpointNotFound."""
    endpoint = await find_endpoint(session, provider_id, for_update=for_update)
    if endpoint is None:
        raise EndpointNotFound("Set a webhook endpoint first.")
    return endpoint


async def set_endpoint(
    session: AsyncSession,
    box: SecretBox,
    guard: UrlGuard,
    provider_id: uuid.UUID,
    url: str,
    event_types: Sequence[str],
    *,
    now: datetime | None = None,
) -> EndpointSaved:
    """Create or replace the provider's endpoint (SSRF-checked); re-enables a disabled one."""
    types = check_event_types(list(event_types))
    await guard.check_url(url)  # before any row is locked: it waits for DNS
    now = now or utcnow()
    key = generate_secret()
    created = await _insert_if_absent(session, box, provider_id, url, types, key, now)
    endpoint = await get_endpoint(session, provider_id, for_update=True)
    if created:
        return EndpointSaved(endpoint, format_secret(key))
    endpoint.url = url
    endpoint.event_types = types
    endpoint.updated_at = now
    if endpoint.disabled_at is not None:
        endpoint.disabled_at = None
        endpoint.disabled_reason = None
        await _resolve_notices(session, provider_id, now)
    await session.flush()
    return EndpointSaved(endpoint, None)


async def _insert_if_absent(
    session: AsyncSession,
    box: SecretBox,
    provider_id: uuid.UUID,
    url: str,
    types: list[str],
    key: bytes,
    now: datetime,
) -> bool:
    # INSERT ... ON CONFLICT DO NOTHING: two first saves racing on PostgreSQL cannot both create
    # (and cannot fail on the unique provider_id either); exactly one secret is ever shown.
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    row = {
        "id": new_id(),
        "created_at": now,
        "updated_at": now,
        "provider_id": provider_id,
        "url": url,
        "event_types": types,
        "secret_ciphertext": box.encrypt(key),
    }
    statement = (
        insert(WebhookEndpoint)
        .values(row)
        .on_conflict_do_nothing(index_elements=["provider_id"])
        .returning(col(WebhookEndpoint.id))
    )
    return (await session.execute(statement)).first() is not None


async def rotate_secret(
    session: AsyncSession,
    box: SecretBox,
    provider_id: uuid.UUID,
    *,
    overlap: timedelta = DEFAULT_ROTATION_OVERLAP,
    now: datetime | None = None,
) -> str:
    """A new ``whsec_`` secret (shown once); the current one keeps signing for ``overlap``."""
    if not timedelta(0) <= overlap <= MAX_ROTATION_OVERLAP:
        raise ValueError(f"overlap must be between 0 and {MAX_ROTATION_OVERLAP}")
    endpoint = await get_endpoint(session, provider_id, for_update=True)
    now = now or utcnow()
    key = generate_secret()
    endpoint.previous_secret_ciphertext = endpoint.secret_ciphertext
    endpoint.previous_secret_expires_at = now + overlap
    endpoint.secret_ciphertext = box.encrypt(key)
    endpoint.updated_at = now
    await session.flush()
    return format_secret(key)


def signing_keys(box: SecretBox, endpoint: WebhookEndpoint, now: datetime) -> list[bytes]:
    """The keys that sign a delivery now: the current one, and the previous during overlap."""
    keys = [box.decrypt(endpoint.secret_ciphertext)]
    expires_at = endpoint.previous_secret_expires_at
    if endpoint.previous_secret_ciphertext and expires_at is not None and expires_at > now:
        keys.append(box.decrypt(endpoint.previous_secret_ciphertext))
    return keys


async def send_test_event(
    session: AsyncSession, provider_id: uuid.UUID, *, message: str | None = None
) -> uuid.UUID:
    """Queue a ``webhook.test`` event to the provider's endpoint; its attempts show in the log."""
    endpoint = await get_endpoint(session, provider_id)
    if endpoint.disabled_at is not None:
        raise EndpointDisabled("The endpoint is disabled; save it again to enable it.")
    data = {"message": message or "Test event requested by an operator."}
    event_id = queue_event(session, provider_id, TEST_EVENT_TYPE, data)
    await session.flush()
    return event_id


async def disable_endpoint(
    session: AsyncSession,
    provider_id: uuid.UUID,
    url: str,
    *,
    reason: str,
    event_id: uuid.UUID | None,
    now: datetime,
) -> bool:
    """Disable the endpoint if it still has ``url``, telling its operators; True if it did."""
    # Only the URL that answered 410 is disabled: an operator may have saved a new one since.
    result = await session.execute(
        update(WebhookEndpoint)
        .where(
            col(WebhookEndpoint.provider_id) == provider_id,
            col(WebhookEndpoint.url) == url,
            col(WebhookEndpoint.disabled_at).is_(None),
        )
        .values(disabled_at=now, disabled_reason=reason, updated_at=now)
        .returning(col(WebhookEndpoint.id))
    )
    if result.first() is None:
        return False
    session.add(
        WebhookNotice(
            created_at=now,
            provider_id=provider_id,
            kind=ENDPOINT_DISABLED,
            message=f"Webhook delivery to {url} stopped: {reason}. Save the endpoint again "
            "to resume, then replay the dead-lettered events.",
            message_zh=f"向 {url} 的回调已停止：{reason}。请重新保存回调地址以恢复，"
            "然后重发进入死信队列的事件。",
            url=url,
            event_id=event_id,
        )
    )
    return True


async def list_notices(
    session: AsyncSession, provider_id: uuid.UUID, *, include_resolved: bool = False
) -> list[WebhookNotice]:
    """The provider's notices, newest first (unresolved only unless asked)."""
    query = notices_query(provider_id, include_resolved=include_resolved)
    return list((await session.scalars(query.order_by(col(WebhookNotice.id).desc()))).all())


async def _resolve_notices(session: AsyncSession, provider_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(WebhookNotice)
        .where(
            col(WebhookNotice.provider_id) == provider_id,
            col(WebhookNotice.resolved_at).is_(None),
        )
        .values(resolved_at=now)
    )
