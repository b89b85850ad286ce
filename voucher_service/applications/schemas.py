"""Request and response shapes of the applications domain, per audience."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from voucher_service.applications.workflow import Decision, State

MAX_AMOUNT = 10**15  # fen; far beyond any contract, well inside BIGINT

AttachmentKind = Literal["contract", "business_licence", "invoice", "payment", "delivery", "other"]


class _Contract(BaseModel):
    """Contract and project fields shared by creation and update."""

    model_config = ConfigDict(extra="forbid")

    contract_number: str = Field(min_length=1, max_length=100, pattern=r"^\S(.*\S)?$")
    contract_amount: int = Field(gt=0, le=MAX_AMOUNT, description="fen")
    contract_signed_on: date
    contract_starts_on: date
    contract_ends_on: date
    contract_domestic_chips: bool = False
    project_name: str = Field(min_length=1, max_length=200)
    project_summary: str = Field(default="", max_length=4000)
    related_party_declared: bool = False
    related_party_note: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _dates(self) -> _Contract:
        if self.contract_ends_on <= self.contract_starts_on:
            raise ValueError("contract_ends_on must be after contract_starts_on")
        return self


class ApplicationCreate(_Contract):
    program_id: uuid.UUID
    provider_id: uuid.UUID


class ApplicationUpdate(BaseModel):
    """A change to a draft or returned application: only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    provider_id: uuid.UUID | None = None
    contract_number: str | None = Field(
        default=None, min_length=1, max_length=100, pattern=r"^\S(.*\S)?$"
    )
    contract_amount: int | None = Field(default=None, gt=0, le=MAX_AMOUNT)
    contract_signed_on: date | None = None
    contract_starts_on: date | None = None
    contract_ends_on: date | None = None
    contract_domestic_chips: bool | None = None
    project_name: str | None = Field(default=None, min_length=1, max_length=200)
    project_summary: str | None = Field(default=None, max_length=4000)
    related_party_declared: bool | None = None
    related_party_note: str | None = Field(default=None, max_length=1000)


class AttachmentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    name: str
    content_type: str
    size_bytes: int
    sha256: str
    created_at: datetime


class TimelineEntry(BaseModel):
    """One step of the review, as the applicant sees it (reviewers are not named)."""

    round: int
    stage_index: int
    stage_name: str
    decision: str
    comment: str
    created_at: datetime


class TimelineEntryAdmin(TimelineEntry):
    actor_id: uuid.UUID
    actor_label: str
    awarded_amount: int | None = None


class ObjectionAdmin(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    text: str
    contact: str | None
    created_at: datetime


class ApplicationSummary(BaseModel):
    """A row of a list."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    program_id: uuid.UUID
    enterprise_id: uuid.UUID
    provider_id: uuid.UUID
    contract_number: str
    contract_amount: int
    contract_signed_on: date
    project_name: str
    state: State
    stage_index: int
    stage_name: str | None = None
    round: int
    eligible_amount: int | None
    awarded_amount: int | None
    voucher_id: uuid.UUID | None
    publicity_until: datetime | None
    submitted_at: datetime | None
    created_at: datetime


class ApplicationPublic(ApplicationSummary):
    """The applicant's view: everything it wrote, the working, the timeline with comments."""

    contract_starts_on: date
    contract_ends_on: date
    contract_domestic_chips: bool
    project_summary: str
    related_party_declared: bool
    related_party_note: str | None
    eligibility: dict[str, Any] | None
    decided_at: datetime | None
    updated_at: datetime | None
    attachments: list[AttachmentPublic] = []
    timeline: list[TimelineEntry] = []


class ApplicationAdmin(ApplicationPublic):
    """The reviewers' view: who decided, approvals so far, objections from the public."""

    timeline: list[TimelineEntryAdmin] = []  # type: ignore[assignment]
    objections: list[ObjectionAdmin] = []
    ready_for_final: bool = False


class DecisionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Decision
    comment: str = Field(default="", max_length=4000)
    stage_index: int | None = Field(
        default=None,
        ge=0,
        description="the stage being decided; if the application is no longer there the "
        "decision is refused, so a retried request never decides a later stage",
    )


class DecisionResult(BaseModel):
    """What a decision did: the application now, and whether a second approver is awaited."""

    application: ApplicationAdmin
    awaiting_second_approver: bool = False


class EligibilityPreview(BaseModel):
    """The eligible amount of a contract under a programme, with its working."""

    eligible_amount: int
    working: dict[str, Any]


class ObjectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=5, max_length=4000)
    contact: str | None = Field(default=None, max_length=200)


class ObjectionReceipt(BaseModel):
    id: uuid.UUID
    created_at: datetime


class PublicityEntry(BaseModel):
    """One award on the public publicity page: no personal data, no contract details."""

    id: uuid.UUID
    program_id: uuid.UUID
    program_name: str
    enterprise_name: str
    provider_name: str
    project_name: str
    award_amount: int | None
    publicity_until: datetime


class BatchResult(BaseModel):
    """What closing a pro-rata batch did."""

    program_id: uuid.UUID
    budget_amount: int
    requested_amount: int
    issued_amount: int
    issued: list[uuid.UUID]
    skipped: dict[str, str]
