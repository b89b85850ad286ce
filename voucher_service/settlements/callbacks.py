"""Inbound callbacks ``settlement.confirmed`` and ``settlement.disputed`` (provider-signed)."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from providers.callbacks import ReceivedCallback, callbacks
from voucher_service.audit import service as audit
from voucher_service.audit.service import AuditActor
from voucher_service.settlements import service


class SettlementConfirmation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    settlement_id: uuid.UUID


class SettlementDisputeData(BaseModel):
    model_config = ConfigDict(extra="forbid")

    settlement_id: uuid.UUID
    reason: str = Field(min_length=1, max_length=1000)


async def _respond(
    session: AsyncSession,
    callback: ReceivedCallback[Any],
    *,
    confirm: bool,
    reason: str | None = None,
) -> dict[str, Any]:
    settlement = await service.get_for_payee(
        session, callback.data.settlement_id, callback.provider_id
    )
    await service.respond(session, settlement, confirm=confirm, reason=reason)
    await audit.record(
        session,
        action="settlement.confirmed" if confirm else "settlement.disputed",
        actor=AuditActor(
            type="client", id=callback.api_client_id, organisation_id=callback.provider_id
        ),
        target=("settlement", settlement.id),
        after={"status": settlement.status, "callback_id": callback.callback_id},
    )
    status = "confirmed" if confirm else "disputed"
    return {"settlement_id": str(settlement.id), "status": status}


@callbacks.handler("settlement.confirmed", data=SettlementConfirmation, scope="settlements:write")
async def confirm(
    session: AsyncSession, callback: ReceivedCallback[SettlementConfirmation]
) -> dict[str, Any]:
    """The provider confirms an approved settlement."""
    return await _respond(session, callback, confirm=True)


@callbacks.handler("settlement.disputed", data=SettlementDisputeData, scope="settlements:write")
async def dispute(
    session: AsyncSession, callback: ReceivedCallback[SettlementDisputeData]
) -> dict[str, Any]:
    """The provider disputes an approved settlement, saying why."""
    return await _respond(session, callback, confirm=False, reason=callback.data.reason)
