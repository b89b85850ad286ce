"""``ledger_verify_run``: the outcome of every ``verify`` run, so admins see the last one."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlmodel import Field

from voucher_service.kit.models import IdModel


class LedgerVerifyRun(IdModel, table=True):
    __tablename__ = "ledger_verify_run"

    ok: bool
    transactions: int = Field(sa_type=sa.BigInteger)
    checkpoints: int = Field(sa_type=sa.BigInteger)
    accounts: int = Field(sa_type=sa.BigInteger)
    holds: int = Field(sa_type=sa.BigInteger)
    breaks: list[str] = Field(default_factory=list, sa_type=sa.JSON, nullable=False)
    run_by_id: uuid.UUID | None = Field(default=None)
