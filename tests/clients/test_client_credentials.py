"""Provider API credentials: create, rotate, revoke, the client credentials grant."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from jose import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from providers.clients.assertion import ASSERTION_TYPE
from providers.clients.models import AuthMethod
from tests.factories import (
    audit_events,
    auth_headers,
    bearer,
    client_token,
    create_organisation,
    create_provider_client,
    create_user,
)
from voucher_service.db import Database
from voucher_service.organisations.models import OrganisationKind
from voucher_service.users.models import Role


def ec_key() -> tuple[str, dict[str, str]]:
    """A private key (PEM) and its public JWK."""
    private = ec.generate_private_key(ec.SECP256R1())
    numbers = private.public_key().public_numbers()

    def enc(n: int) -> str:
        return base64.urlsafe_b64encode(n.to_bytes(32, "big")).rstrip(b"=").decode()

    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return pem, {"kty": "EC", "crv": "P-256", "x": enc(numbers.x), "y": enc(numbers.y)}


def assertion(app: FastAPI, client_id: str, pem: str, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": f"{app.state.settings.base_url}/v1/oauth/token",
        "iat": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
    } | overrides
    return jwt.encode(claims, pem, algorithm="ES256")  # type: ignore[no-any-return]


def assertion_form(token: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": token,
    }


async def operator(app: FastAPI, session: AsyncSession) -> tuple[dict[str, str], uuid.UUID]:
    provider = await create_organisation(session, kind=OrganisationKind.provider)
    user = await create_user(session, organisation=provider, role=Role.operator)
    return await auth_headers(app, session, user), provider.id


async def test_operator_creates_a_client_whose_secret_is_shown_once(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    headers, _ = await operator(app, session)
    created = await client.post(
        "/v1/provider/api-clients", json={"name": "billing"}, headers=headers
    )
    assert created.status_code == 201
    body = created.json()
    assert body["client_secret"].startswith("vcs_") and body["client_id"].startswith("vc_")
    assert set(body["scopes"]) >= {"redemptions:write", "vouchers:read"}
    shown = await client.get(f"/v1/provider/api-clients/{body['id']}", headers=headers)
    assert "client_secret" not in shown.json() and body["client_secret"] not in shown.text
    listed = await client.get("/v1/provider/api-clients", headers=headers)
    assert [item["id"] for item in listed.json()["items"]] == [body["id"]]
    token = await client.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(body["client_id"], body["client_secret"]),
    )
    assert token.status_code == 200, token.text
    me = await client.get("/v1/provider/me", headers=bearer(token.json()["access_token"]))
    assert me.json()["client_id"] == body["client_id"]
    events = await audit_events(database)
    assert body["client_secret"] not in str([(e.before_json, e.after_json) for e in events])
    assert {"api_client.created", "auth.client_token.issued"} <= {e.action for e in events}


async def test_client_token_refusals_look_alike_and_are_audited(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    issued = await create_provider_client(app, session)
    attempts = [
        {"client_id": issued.client.client_id, "client_secret": "vcs_wrong"},
        {"client_id": "vc_nobody", "client_secret": issued.client_secret},
        {"client_id": issued.client.client_id},
    ]
    bodies = []
    for form in attempts:
        response = await client.post(
            "/v1/oauth/token", data={"grant_type": "client_credentials", **form}
        )
        assert response.status_code == 401
        bodies.append({k: v for k, v in response.json().items() if k not in ("request_id",)})
    assert bodies[0] == bodies[1] == bodies[2]
    reasons = [e.reason for e in await audit_events(database, "auth.client_token.failed")]
    assert reasons == ["wrong_secret", "unknown_client", "wrong_secret"]


async def test_unsupported_grant_type_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/oauth/token", data={"grant_type": "password"})
    assert response.status_code == 400 and response.json()["code"] == "unsupported_grant_type"


async def test_rotation_keeps_the_old_secret_for_the_grace_period(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    headers, _ = await operator(app, session)
    created = (
        await client.post("/v1/provider/api-clients", json={"name": "a"}, headers=headers)
    ).json()
    rotated = await client.post(
        f"/v1/provider/api-clients/{created['id']}/rotate", json={}, headers=headers
    )
    assert rotated.status_code == 200
    new_secret = rotated.json()["client_secret"]
    assert new_secret != created["client_secret"] and rotated.json()["previous_valid_until"]
    for secret in (created["client_secret"], new_secret):
        response = await client.post(
            "/v1/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(created["client_id"], secret),
        )
        assert response.status_code == 200


async def test_rotation_without_grace_drops_the_old_secret(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    app.state.settings.client_secret_rotation_grace_seconds = 0
    headers, _ = await operator(app, session)
    created = (
        await client.post("/v1/provider/api-clients", json={"name": "a"}, headers=headers)
    ).json()
    await client.post(f"/v1/provider/api-clients/{created['id']}/rotate", json={}, headers=headers)
    old = await client.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(created["client_id"], created["client_secret"]),
    )
    assert old.status_code == 401


async def test_revocation_stops_issued_tokens_at_once(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    headers, _ = await operator(app, session)
    created = (
        await client.post("/v1/provider/api-clients", json={"name": "a"}, headers=headers)
    ).json()
    token = (
        await client.post(
            "/v1/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(created["client_id"], created["client_secret"]),
        )
    ).json()["access_token"]
    assert (await client.get("/v1/provider/me", headers=bearer(token))).status_code == 200
    revoked = await client.post(f"/v1/provider/api-clients/{created['id']}/revoke", headers=headers)
    assert revoked.json()["status"] == "revoked"
    assert (await client.get("/v1/provider/me", headers=bearer(token))).status_code == 401
    again = await client.post(
        f"/v1/provider/api-clients/{created['id']}/rotate", json={}, headers=headers
    )
    assert again.status_code == 409 and again.json()["code"] == "client_revoked"


async def test_suspended_provider_gets_no_tokens_and_its_tokens_stop(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    provider = await create_organisation(session, kind=OrganisationKind.provider)
    issued = await create_provider_client(app, session, organisation=provider)
    token = await client_token(client, issued)
    admin = await create_user(session, role=Role.program_admin)
    suspended = await client.post(
        f"/v1/admin/organisations/{provider.id}/suspend",
        json={"reason": "failed inspection"},
        headers=await auth_headers(app, session, admin),
    )
    assert suspended.status_code == 200
    me = await client.get("/v1/provider/me", headers=bearer(token))
    assert me.status_code == 403 and me.json()["code"] == "account_suspended"
    refused = await client.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(issued.client.client_id, issued.client_secret or ""),
    )
    assert refused.status_code == 403


async def test_scopes_are_narrowed_and_never_widened(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    issued = await create_provider_client(
        app, session, scopes=["vouchers:read", "redemptions:read"]
    )
    token = await client_token(client, issued, scope="vouchers:read")
    me = await client.get("/v1/provider/me", headers=bearer(token))
    assert me.json()["scopes"] == ["vouchers:read"]
    wider = await client.post(
        "/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": issued.client.client_id,
            "client_secret": issued.client_secret or "",
            "scope": "redemptions:write",
        },
    )
    assert wider.status_code == 400 and wider.json()["code"] == "invalid_scope"


async def test_private_key_jwt_grant_and_replay_protection(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    pem, public = ec_key()
    issued = await create_provider_client(
        app, session, auth_method=AuthMethod.private_key_jwt, public_jwk=public
    )
    assert issued.client_secret is None
    signed = assertion(app, issued.client.client_id, pem)
    first = await client.post("/v1/oauth/token", data=assertion_form(signed))
    assert first.status_code == 200, first.text
    replay = await client.post("/v1/oauth/token", data=assertion_form(signed))
    assert replay.status_code == 401
    [event] = await audit_events(database, "auth.client_token.failed")
    assert event.reason == "assertion_replayed"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"aud": "https://elsewhere.example/token"}, "assertion_wrong_audience"),
        ({"exp": int(time.time()) - 120}, "assertion_invalid"),
        ({"exp": int(time.time()) + 3600}, "assertion_lifetime_too_long"),
        ({"iss": "vc_someone_else"}, "unknown_client"),
        ({"jti": None}, "assertion_invalid"),
    ],
)
async def test_bad_client_assertions_are_refused(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    database: Database,
    overrides: dict[str, Any],
    reason: str,
) -> None:
    pem, public = ec_key()
    issued = await create_provider_client(
        app, session, auth_method=AuthMethod.private_key_jwt, public_jwk=public
    )
    claims = {k: v for k, v in overrides.items() if v is not None}
    signed = assertion(app, issued.client.client_id, pem, **claims)
    if overrides.get("jti", "") is None:
        payload = jwt.get_unverified_claims(signed)
        payload.pop("jti")
        signed = jwt.encode(payload, pem, algorithm="ES256")
    response = await client.post("/v1/oauth/token", data=assertion_form(signed))
    assert response.status_code == 401
    [event] = await audit_events(database, "auth.client_token.failed")
    assert event.reason == reason


async def test_assertion_signed_by_another_key_or_hs256_is_refused(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    _, public = ec_key()
    other_pem, _ = ec_key()
    issued = await create_provider_client(
        app, session, auth_method=AuthMethod.private_key_jwt, public_jwk=public
    )
    forged = assertion(app, issued.client.client_id, other_pem)
    now = int(time.time())
    hs256 = jwt.encode(
        {
            "iss": issued.client.client_id,
            "sub": issued.client.client_id,
            "exp": now + 60,
            "jti": "x",
            "aud": app.state.settings.resolved_token_issuer,
        },
        str(public),
        algorithm="HS256",
    )
    for token in (forged, hs256):
        response = await client.post("/v1/oauth/token", data=assertion_form(token))
        assert response.status_code == 401
    reasons = [e.reason for e in await audit_events(database, "auth.client_token.failed")]
    assert reasons == ["assertion_invalid", "assertion_algorithm_not_allowed"]


async def test_a_secret_client_cannot_use_an_assertion(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    pem, _ = ec_key()
    issued = await create_provider_client(app, session)
    response = await client.post(
        "/v1/oauth/token", data=assertion_form(assertion(app, issued.client.client_id, pem))
    )
    assert response.status_code == 401
    [event] = await audit_events(database, "auth.client_token.failed")
    assert event.reason == "wrong_auth_method"


async def test_registering_a_private_key_is_refused(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    headers, _ = await operator(app, session)
    private = {**ec_key()[1], "d": "AAAA"}
    response = await client.post(
        "/v1/provider/api-clients",
        json={"name": "k", "auth_method": "private_key_jwt", "public_jwk": private},
        headers=headers,
    )
    assert response.status_code == 422 and response.json()["code"] == "invalid_jwk"


async def test_api_clients_cannot_manage_credentials_and_users_cannot_call_provider_routes(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    issued = await create_provider_client(app, session)
    token = bearer(await client_token(client, issued))
    assert (await client.get("/v1/provider/api-clients", headers=token)).status_code == 403
    headers, _ = await operator(app, session)
    assert (await client.get("/v1/provider/me", headers=headers)).status_code == 403


async def test_malformed_basic_credentials_are_refused_and_audited(
    client: httpx.AsyncClient, database: Database
) -> None:
    response = await client.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic !!!not-base64"},
    )
    assert response.status_code == 401 and response.json()["code"] == "invalid_client"
    [event] = await audit_events(database, "auth.client_token.failed")
    assert event.reason == "unknown_client"
