"""``POST /v1/provider/callbacks`` through HTTP: good, tampered, stale, replayed, unknown."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.sqltypes import utcnow
from providers.callbacks.models import ProviderCallback
from providers.callbacks.signature import verify_detached
from providers.clients.jwk import load_stored_jwk
from providers.webhooks.events import format_timestamp
from tests.callbacks.conftest import URL, Recorder, signing_client
from tests.callbacks.signing import envelope, sign
from tests.clients.test_client_credentials import ec_key
from tests.factories import audit_events, provider_headers
from tests.webhooks.helpers import operator_of
from voucher_service.db import Database


async def stored(database: Database) -> list[ProviderCallback]:
    async with database.unit_of_work(readonly=True) as session:
        return list((await session.scalars(select(ProviderCallback))).all())


def problem(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


async def test_a_signed_callback_is_verified_stored_handled_and_audited(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    database: Database,
    recorder: Recorder,
) -> None:
    sender = await signing_client(app, client, session, scope="settlements:write")
    response = await sender.send(client, "stmt-1", {"amount": 500})
    assert response.status_code == 200, response.text
    receipt = response.json()
    assert (receipt["id"], receipt["type"], receipt["replayed"]) == (
        "stmt-1",
        "test.recorded",
        False,
    )
    assert receipt["outcome"] == {"recorded_amount": 500, "call": 1}
    [call] = recorder.calls
    assert (call.provider_id, call.api_client_id) == (
        sender.provider.id,
        sender.credential.client.id,
    )
    assert (call.key_id, call.data.amount) == ("key-1", 500)

    [row] = await stored(database)
    assert str(row.id) == receipt["receipt_id"] and row.outcome == receipt["outcome"]
    # The evidence verifies again on its own, whatever happens to the client's key later.
    again = verify_detached(row.signature, row.body.encode(), [load_stored_jwk(row.signing_key)])
    assert again.key_id == "key-1"
    [audited] = await audit_events(database, "callback.received")
    assert audited.target_id == str(row.id) and "stmt-1" in (audited.after_json or "")


async def test_a_retry_gets_the_stored_outcome_and_runs_nothing_again(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    database: Database,
    recorder: Recorder,
) -> None:
    sender = await signing_client(app, client, session, scope="settlements:write")
    first = (await sender.send(client, "stmt-1", {"amount": 500})).json()
    later = format_timestamp(utcnow() + timedelta(seconds=30))  # signed again for the retry
    retry = await sender.send(client, "stmt-1", {"amount": 500}, at=later)
    assert retry.status_code == 200
    assert retry.json() == first | {"replayed": True}
    assert len(recorder.calls) == 1 and len(await stored(database)) == 1
    assert len(await audit_events(database, "callback.received")) == 1


async def test_the_same_id_with_other_content_is_refused(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    database: Database,
    recorder: Recorder,
) -> None:
    sender = await signing_client(app, client, session, scope="settlements:write")
    await sender.send(client, "stmt-1", {"amount": 500})
    reused = await sender.send(client, "stmt-1", {"amount": 600})
    assert problem(reused) == (422, "callback_id_reused")
    [refused] = await audit_events(database, "callback.refused")
    assert refused.reason == "callback_id_reused" and refused.outcome == "failure"
    # Ids are per provider: another provider may use the same one.
    other = await signing_client(app, client, session, scope="settlements:write")
    assert (await other.send(client, "stmt-1", {"amount": 600})).status_code == 200
    assert [c.data.amount for c in recorder.calls] == [500, 600]


async def test_unsigned_tampered_and_foreign_signatures_are_refused(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    database: Database,
    recorder: Recorder,
) -> None:
    sender = await signing_client(app, client, session, scope="settlements:write")
    signed = envelope("stmt-1", "test.recorded", {"amount": 500})
    tampered = signed.replace(b"500", b"900")
    forged = await client.post(
        URL,
        content=tampered,
        headers=sender.headers | {"JWS-Signature": sign(signed, sender.private_key)},
    )
    assert problem(forged) == (400, "callback_signature_invalid")
    unsigned = await client.post(URL, content=signed, headers=sender.headers)
    assert problem(unsigned) == (400, "callback_signature_missing")
    stranger, _ = ec_key()
    foreign = await sender.send(client, "stmt-1", {"amount": 500}, key=stranger)
    assert problem(foreign) == (400, "callback_signature_invalid")
    assert recorder.calls == [] and await stored(database) == []
    reasons = [e.reason for e in await audit_events(database, "callback.refused")]
    invalid, missing = "callback_signature_invalid", "callback_signature_missing"
    assert reasons == [invalid, missing, invalid]


async def test_stale_and_future_timestamps_are_refused(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, recorder: Recorder
) -> None:
    sender = await signing_client(app, client, session, scope="settlements:write")
    for skew in (timedelta(minutes=-6), timedelta(minutes=6)):
        at = format_timestamp(utcnow() + skew)
        response = await sender.send(client, "stmt-1", {"amount": 500}, at=at)
        assert problem(response) == (400, "callback_stale")
    inside = format_timestamp(utcnow() - timedelta(minutes=4))
    assert (await sender.send(client, "stmt-1", {"amount": 500}, at=inside)).status_code == 200
    assert len(recorder.calls) == 1


async def test_types_data_and_envelopes_are_checked(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, recorder: Recorder
) -> None:
    sender = await signing_client(app, client, session, scope="settlements:write")
    unknown = await sender.send(client, "x-1", {}, type="settlement.melted")
    assert problem(unknown) == (422, "callback_type_unknown")
    assert "test.recorded" in unknown.json()["detail"]
    assert problem(await sender.send(client, "x-2", {"amount": "lots"})) == (
        422,
        "callback_data_invalid",
    )
    not_json = b"amount=500"
    malformed = await client.post(
        URL,
        content=not_json,
        headers=sender.headers | {"JWS-Signature": sign(not_json, sender.private_key)},
    )
    assert problem(malformed) == (400, "callback_malformed")
    extra = envelope("x-3", "test.recorded", {"amount": 1}).replace(
        b'"data"', b'"extra": 1, "data"'
    )
    invalid = await client.post(
        URL,
        content=extra,
        headers=sender.headers | {"JWS-Signature": sign(extra, sender.private_key)},
    )
    assert problem(invalid) == (422, "callback_invalid") and "extra" in invalid.json()["detail"]
    assert recorder.calls == []


async def test_the_sender_needs_a_registered_key_and_the_types_scope(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, recorder: Recorder
) -> None:
    narrow = await signing_client(app, client, session, scope="vouchers:read")
    assert problem(await narrow.send(client, "x-1", {"amount": 1})) == (
        403,
        "callback_scope_missing",
    )
    body = envelope("x-1", "callback.test", {})
    secret_client = await provider_headers(app, client, session)
    pem, _ = ec_key()
    response = await client.post(
        URL, content=body, headers=secret_client | {"JWS-Signature": sign(body, pem)}
    )
    assert problem(response) == (403, "callback_signing_key_required")
    assert recorder.calls == []


async def test_a_refusal_by_the_handler_stores_nothing(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    database: Database,
    recorder: Recorder,
) -> None:
    sender = await signing_client(app, client, session, scope="settlements:write")
    refused = await sender.send(client, "stmt-1", {"amount": 500, "fail": True})
    assert problem(refused) == (409, "recording_failed")
    assert await stored(database) == []
    fixed = await sender.send(client, "stmt-1", {"amount": 500})
    assert fixed.json()["replayed"] is False and fixed.json()["outcome"]["call"] == 2


async def test_the_test_callback_says_which_key_verified(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    sender = await signing_client(app, client, session)
    response = await sender.send(client, "ping-1", {"message": "hello"}, type="callback.test")
    assert response.status_code == 200, response.text
    outcome = response.json()["outcome"]
    assert (outcome["verified"], outcome["key_id"], outcome["message"]) == (True, "key-1", "hello")


async def test_after_a_key_rotation_both_keys_sign_during_the_grace_period(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    sender = await signing_client(app, client, session)
    new_pem, new_public = ec_key()
    _, operator = await operator_of(app, session, sender.provider)
    rotated = await client.post(
        f"/v1/provider/api-clients/{sender.credential.client.id}/rotate",
        json={"public_jwk": new_public | {"kid": "key-2"}},
        headers=operator,
    )
    assert rotated.status_code == 200, rotated.text
    old = await sender.send(client, "p-1", {}, type="callback.test")
    new = await sender.send(client, "p-2", {}, type="callback.test", key=new_pem)
    assert [r.json()["outcome"]["key_id"] for r in (old, new)] == ["key-1", "key-2"]


async def test_concurrent_duplicates_are_handled_once(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    database: Database,
    recorder: Recorder,
) -> None:
    sender = await signing_client(app, client, session, scope="settlements:write")
    responses = await asyncio.gather(
        *(sender.send(client, "stmt-1", {"amount": 500}) for _ in range(4))
    )
    assert [r.status_code for r in responses] == [200] * 4
    assert sorted(r.json()["replayed"] for r in responses) == [False, True, True, True]
    assert len(recorder.calls) == 1
    async with database.unit_of_work(readonly=True) as check:
        assert await check.scalar(select(func.count()).select_from(ProviderCallback)) == 1


async def test_openapi_documents_the_signature_and_the_body(client: httpx.AsyncClient) -> None:
    operation = (await client.get("/openapi.json")).json()["paths"][URL]["post"]
    [header] = [p for p in operation["parameters"] if p["in"] == "header"]
    assert header["name"] == "jws-signature"
    assert header["schema"]["examples"][0].count("..") == 1
    body = operation["requestBody"]["content"]["application/json"]
    assert set(body["schema"]["required"]) == {"id", "type", "timestamp", "data"}
    assert body["example"]["type"] == "statement.submitted"
    assert (
        "callback+jws" in operation["description"] and "callback.test" in operation["description"]
    )
    assert {"400", "401", "403", "422", "429"} <= set(operation["responses"])
