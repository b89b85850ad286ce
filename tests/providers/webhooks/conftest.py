"""Fixtures for the webhook engine: a live receiver, the engine with an injected retry clock."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from ledger.sqltypes import utcnow
from providers.webhooks.endpoints import EndpointSaved, set_endpoint
from providers.webhooks.events import EVENT_TYPES
from providers.webhooks.schedule import RetryPolicy
from providers.webhooks.secrets import SecretBox
from providers.webhooks.ssrf import UrlGuard
from providers.webhooks.worker import DeliveryConfig, DeliveryEngine
from tests.factories import create_organisation
from tests.providers.webhooks.receiver import Receiver, running
from voucher_service.db import Database
from voucher_service.organisations.models import OrganisationKind
from voucher_service.settings import Settings
from voucher_service.webhooks.runtime import secret_box


class FakeClock:
    """The retry clock: only moves when the test says so.

    It starts a minute ahead of the wall clock, so events the test emits are already due.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or utcnow() + timedelta(minutes=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta

    def advance_to(self, moment: datetime) -> None:
        self.now = max(self.now, moment)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running(Receiver()) as live:
        yield live


@pytest.fixture
def box(settings: Settings) -> SecretBox:
    return secret_box(settings)


@pytest.fixture
def guard() -> UrlGuard:
    return UrlGuard(require_https=False, allow_loopback=True)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def no_jitter() -> RetryPolicy:
    # random() == 0.5 puts every delay exactly on the schedule.
    return RetryPolicy(random=lambda: 0.5)


@pytest.fixture
def make_engine(database: Database, box: SecretBox, guard: UrlGuard, clock: FakeClock):  # type: ignore[no-untyped-def]
    def make(worker_id: str = "test-worker", **overrides: object) -> DeliveryEngine:
        options: dict[str, object] = {
            "attempt_timeout": 2.0,
            "policy": no_jitter(),
            "clock": clock,
            "idle_poll": 0.05,
        }
        options.update(overrides)
        config = DeliveryConfig(**options)  # type: ignore[arg-type]
        return DeliveryEngine(database.unit_of_work, box, guard, worker_id=worker_id, config=config)

    return make


async def new_provider(database: Database) -> uuid.UUID:
    """A real provider organisation (webhook rows reference ``organisation.id``), committed."""
    async with database.session() as session:
        return (await create_organisation(session, kind=OrganisationKind.provider)).id


async def create_endpoint(
    database: Database,
    box: SecretBox,
    guard: UrlGuard,
    url: str,
    *,
    provider_id: uuid.UUID | None = None,
    event_types: list[str] | None = None,
) -> tuple[uuid.UUID, EndpointSaved]:
    """A provider (made if not given) with an endpoint at ``url``, committed."""
    provider_id = provider_id or await new_provider(database)
    async with database.unit_of_work() as session:
        saved = await set_endpoint(
            session, box, guard, provider_id, url, event_types or list(EVENT_TYPES)
        )
    return provider_id, saved
