"""Response shapes and export columns of reconciliation (amounts in fen; yuan in exports)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from voucher_service.exports import Column, money


class ReconciliationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    created_at: datetime
    provider_id: uuid.UUID
    period_start_on: date
    period_end_on: date
    status: str
    encoding: str
    line_count: int
    error_count: int
    statement_amount: int
    matched_count: int
    matched_amount: int
    missing_ours_count: int
    missing_ours_amount: int
    missing_theirs_count: int
    missing_theirs_amount: int
    mismatch_count: int
    mismatch_their_amount: int
    mismatch_our_amount: int
    completed_at: datetime | None


class DifferencePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    order_id: str
    kind: str
    their_amount: int | None
    our_amount: int | None
    line_no: int | None
    redemption_id: uuid.UUID | None


class LineErrorPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    line_no: int
    code: str
    detail: str


class DifferencePage(BaseModel):
    items: list[DifferencePublic]
    next_cursor: str | None


class LineErrorPage(BaseModel):
    items: list[LineErrorPublic]
    next_cursor: str | None


DIFFERENCE_COLUMNS = [
    Column("order_id", "订单号", "Order id"),
    Column("kind", "差异类型", "Difference"),
    money("their_amount", "对方金额（元）", "Their amount (CNY)"),
    money("our_amount", "我方金额（元）", "Our amount (CNY)"),
    Column("line_no", "对账单行号", "Statement line"),
    Column("redemption_id", "核销编号", "Redemption id"),
]
