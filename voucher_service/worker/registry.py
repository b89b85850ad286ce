"""Jobs are registered here by the domains that own them.

A job is an async function taking a :class:`JobContext`. It opens its own units of work. An
``exclusive`` job runs in one worker at a time (a lease in ``worker_job``); a shared job runs in
every worker on every tick and must claim its own rows (``FOR UPDATE SKIP LOCKED``), which is how
outbox delivery spreads over several workers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from voucher_service.db import Database
from voucher_service.keys.service import KeyRing
from voucher_service.settings import Settings


@dataclass(frozen=True)
class JobContext:
    database: Database
    settings: Settings
    keyring: KeyRing
    worker_id: str


JobFunction = Callable[[JobContext], Awaitable[None]]


@dataclass(frozen=True)
class Job:
    name: str
    run: JobFunction
    interval: timedelta
    exclusive: bool = True
    lease: timedelta = field(default=timedelta(minutes=5))


_JOBS: dict[str, Job] = {}


def register(job: Job) -> Job:
    """Add ``job`` to every worker started after this call."""
    _JOBS[job.name] = job
    return job


def job(
    name: str, *, every: timedelta, exclusive: bool = True, lease: timedelta = timedelta(minutes=5)
) -> Callable[[JobFunction], JobFunction]:
    """Decorator form of :func:`register`."""

    def decorate(run: JobFunction) -> JobFunction:
        register(Job(name=name, run=run, interval=every, exclusive=exclusive, lease=lease))
        return run

    return decorate


def registered_jobs() -> list[Job]:
    return list(_JOBS.values())


def unregister(name: str) -> None:
    _JOBS.pop(name, None)
