"""Bookkeeping for periodic jobs, shared by every worker process."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from voucher_service.kit.models import UTCDateTime


class WorkerJob(SQLModel, table=True):
    """One row per registered job: when it is next due and which worker holds its lease."""

    __tablename__ = "worker_job"

    name: str = Field(primary_key=True, max_length=100)
    next_run_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    leased_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    leased_by: str | None = Field(default=None, max_length=200)
    last_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=2000)
    run_count: int = Field(default=0, nullable=False)
