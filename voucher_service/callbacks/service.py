"""Receiving a callback for the route: the sender's keys, the settings, the audit event."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from ledger.sqltypes import utcnow
from providers.callbacks import CallbackReceipt, Sender, callbacks, receive
from providers.clients import service as clients
from providers.clients.models import ApiClient
from voucher_service.audit import service as audit
from voucher_service.auth.principal import Principal
from voucher_service.settings import Settings


async def receive_callback(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    body: bytes,
    signature: str | None,
) -> CallbackReceipt:
    """Verify, store and dispatch a callback from the calling API client (never commits)."""
    client = await session.get(ApiClient, principal.id)
    if client is None:  # pragma: no cover - the principal was loaded from it
        raise LookupError("the calling API client vanished")
    now = utcnow()
    sender = Sender(
        provider_id=principal.organisation_id,
        api_client_id=client.id,
        scopes=principal.scopes,
        keys=clients.verification_keys(client, now),
    )
    receipt = await receive(
        session,
        callbacks,
        sender,
        body,
        signature,
        now=now,
        tolerance=timedelta(seconds=settings.callback_tolerance_seconds),
    )
    if not receipt.replayed:
        record = receipt.record
        await audit.record(
            session,
            action="callback.received",
            actor=principal,
            target=("provider_callback", record.id),
            after={"callback_id": record.callback_id, "type": record.callback_type},
        )
    return receipt
