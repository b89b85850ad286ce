"""Saving an endpoint, rotating its secret, test events, notices."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from ledger.sqltypes import utcnow
from providers.webhooks.endpoints import (
    disable_endpoint,
    get_endpoint,
    list_notices,
    rotate_secret,
    send_test_event,
    set_endpoint,
    signing_keys,
)
from providers.webhooks.errors import (
    EndpointDisabled,
    EndpointNotFound,
    UnknownEventType,
    WebhookUrlRefused,
)
from providers.webhooks.events import TEST_EVENT_TYPE
from providers.webhooks.models import WebhookEndpoint, WebhookEvent
from providers.webhooks.secrets import SecretBox
from providers.webhooks.signing import parse_secret
from providers.webhooks.ssrf import UrlGuard
from tests.providers.webhooks.conftest import create_endpoint, new_provider
from voucher_service.db import Database

URL = "http://127.0.0.1:9/hook"


async def test_first_save_shows_the_secret_once(
    database: Database, box: SecretBox, guard: UrlGuard
) -> None:
    provider_id, saved = await create_endpoint(
        database, box, guard, URL, event_types=["voucher.bound"]
    )
    assert saved.secret is not None and saved.secret.startswith("whsec_")
    async with database.unit_of_work() as session:
        again = await set_endpoint(
            session, box, guard, provider_id, URL + "2", ["settlement.paid", "voucher.bound"]
        )
    assert again.secret is None
    assert again.endpoint.url == URL + "2"
    assert again.endpoint.event_types == ["voucher.bound", "settlement.paid"]
    async with database.unit_of_work(readonly=True) as session:
        stored = await get_endpoint(session, provider_id)
    # Stored encrypted, and it is the secret that was shown.
    assert saved.secret.removeprefix("whsec_") not in stored.secret_ciphertext
    assert signing_keys(box, stored, utcnow()) == [parse_secret(saved.secret)]


async def test_url_is_ssrf_checked_when_saved(database: Database, box: SecretBox) -> None:
    strict = UrlGuard(require_https=False, allow_loopback=False)
    provider_id = await new_provider(database)
    async with database.unit_of_work() as session:
        with pytest.raises(WebhookUrlRefused, match="loopback"):
            await set_endpoint(session, box, strict, provider_id, URL, ["voucher.bound"])
        with pytest.raises(WebhookUrlRefused, match="link-local"):
            await set_endpoint(
                session, box, strict, provider_id, "http://169.254.169.254/", ["voucher.bound"]
            )
        with pytest.raises(UnknownEventType):
            await set_endpoint(session, box, strict, provider_id, URL, ["voucher.melted"])
    async with database.unit_of_work(readonly=True) as session:
        assert (await session.scalars(select(WebhookEndpoint))).all() == []


async def test_concurrent_first_saves_create_one_endpoint_and_one_secret(
    database: Database, box: SecretBox, guard: UrlGuard
) -> None:
    provider_id = await new_provider(database)

    async def save(url: str) -> str | None:
        async with database.unit_of_work() as session:
            return (
                await set_endpoint(session, box, guard, provider_id, url, ["voucher.bound"])
            ).secret

    secrets = await asyncio.gather(*(save(f"{URL}/{n}") for n in range(4)))
    assert sum(secret is not None for secret in secrets) == 1
    async with database.unit_of_work(readonly=True) as session:
        endpoint = await get_endpoint(session, provider_id)
        shown = next(s for s in secrets if s)
        assert signing_keys(box, endpoint, utcnow()) == [parse_secret(shown)]


async def test_rotation_signs_with_both_secrets_during_the_overlap(
    database: Database, box: SecretBox, guard: UrlGuard
) -> None:
    provider_id, saved = await create_endpoint(database, box, guard, URL)
    assert saved.secret is not None
    now = utcnow()
    async with database.unit_of_work() as session:
        new_secret = await rotate_secret(
            session, box, provider_id, overlap=timedelta(hours=1), now=now
        )
    async with database.unit_of_work(readonly=True) as session:
        endpoint = await get_endpoint(session, provider_id)
    new, old = parse_secret(new_secret), parse_secret(saved.secret)
    assert signing_keys(box, endpoint, now + timedelta(minutes=59)) == [new, old]
    assert signing_keys(box, endpoint, now + timedelta(hours=1)) == [new]


async def test_rotation_needs_an_endpoint_and_a_sane_overlap(
    database: Database, box: SecretBox, guard: UrlGuard
) -> None:
    without_endpoint = await new_provider(database)
    async with database.unit_of_work() as session:
        with pytest.raises(EndpointNotFound):
            await rotate_secret(session, box, without_endpoint)
    provider_id, _ = await create_endpoint(database, box, guard, URL)
    async with database.unit_of_work() as session:
        with pytest.raises(ValueError, match="overlap"):
            await rotate_secret(session, box, provider_id, overlap=timedelta(days=8))


async def test_test_event_is_queued_for_an_enabled_endpoint(
    database: Database, box: SecretBox, guard: UrlGuard
) -> None:
    without_endpoint = await new_provider(database)
    async with database.unit_of_work() as session:
        with pytest.raises(EndpointNotFound):
            await send_test_event(session, without_endpoint)
    provider_id, _ = await create_endpoint(database, box, guard, URL, event_types=["voucher.bound"])
    async with database.unit_of_work() as session:
        event_id = await send_test_event(session, provider_id)
    async with database.unit_of_work(readonly=True) as session:
        row = await session.get(WebhookEvent, event_id)
    assert row is not None and row.event_type == TEST_EVENT_TYPE


async def test_disabling_tells_the_operators_and_saving_again_re_enables(
    database: Database, box: SecretBox, guard: UrlGuard
) -> None:
    provider_id, _ = await create_endpoint(database, box, guard, URL)
    async with database.unit_of_work() as session:
        # A 410 from a URL the operator has since replaced must not disable the new one.
        assert not await disable_endpoint(
            session, provider_id, URL + "/old", reason="gone", event_id=None, now=utcnow()
        )
        assert await disable_endpoint(
            session, provider_id, URL, reason="it answered 410 Gone", event_id=None, now=utcnow()
        )
        assert not await disable_endpoint(
            session, provider_id, URL, reason="again", event_id=None, now=utcnow()
        )
    async with database.unit_of_work() as session:
        notices = await list_notices(session, provider_id)
        assert [n.kind for n in notices] == ["endpoint_disabled"]
        assert "410" in notices[0].message and URL in notices[0].message_zh
        with pytest.raises(EndpointDisabled):
            await send_test_event(session, provider_id)
    async with database.unit_of_work() as session:
        saved = await set_endpoint(session, box, guard, provider_id, URL, ["voucher.bound"])
        assert saved.endpoint.disabled_at is None
    async with database.unit_of_work(readonly=True) as session:
        assert await list_notices(session, provider_id) == []
        assert len(await list_notices(session, provider_id, include_resolved=True)) == 1
