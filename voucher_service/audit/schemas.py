"""Response shapes of the audit trail."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from voucher_service.audit.models import AuditEvent


class AuditEventPublic(BaseModel):
    """One audit event, as auditors and system administrators see it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    created_at: datetime
    action: str
    outcome: str
    actor_type: str
    actor_id: uuid.UUID | None
    actor_label: str | None
    organisation_id: uuid.UUID | None
    role: str | None
    target_type: str | None
    target_id: str | None
    reason: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None
    address: str | None
    content_hash: str
    chain_seq: int | None
    chain_hash: str | None

    @classmethod
    def of(cls, event: AuditEvent) -> AuditEventPublic:
        data = {name: getattr(event, name) for name in cls.model_fields if hasattr(event, name)}
        data["before"] = json.loads(event.before_json) if event.before_json else None
        data["after"] = json.loads(event.after_json) if event.after_json else None
        return cls.model_validate(data)


class ChainReportPublic(BaseModel):
    ok: bool
    linked_checked: int
    unlinked_checked: int
    head_seq: int
    problem: str | None
    event_id: str | None
