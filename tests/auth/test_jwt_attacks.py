"""Forged, replayed and confused access tokens fail closed, look alike and are audited."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from jose import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import audit_events, auth_headers, bearer, create_user
from voucher_service.db import Database
from voucher_service.keys.service import SigningKey
from voucher_service.users.models import User


def b64(data: dict[str, Any] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims_of(app: FastAPI, user: User, headers: dict[str, str]) -> dict[str, Any]:
    token = headers["Authorization"].split()[1]
    return jwt.get_unverified_claims(token)  # type: ignore[no-any-return]


def sign(app: FastAPI, claims: dict[str, Any], **header: Any) -> str:
    key = app.state.keyring.active
    headers = {"kid": key.kid, "typ": "at+jwt", **header}
    return jwt.encode(claims, key.private_pem, algorithm="ES256", headers=headers)  # type: ignore[no-any-return]


def alg_none(app: FastAPI, claims: dict[str, Any]) -> str:
    kid = app.state.keyring.active.kid
    return f"{b64({'alg': 'none', 'typ': 'at+jwt', 'kid': kid})}.{b64(claims)}."


def hs256_with_public_key(app: FastAPI, claims: dict[str, Any]) -> str:
    # Algorithm confusion: an HMAC keyed with our *public* key, which anyone can fetch.
    key = app.state.keyring.active
    header = {"alg": "HS256", "typ": "at+jwt", "kid": key.kid}
    return jwt.encode(claims, json.dumps(key.public_jwk), algorithm="HS256", headers=header)  # type: ignore[no-any-return]


def foreign_key_same_kid(app: FastAPI, claims: dict[str, Any]) -> str:
    stranger = SigningKey.from_private_key(ec.generate_private_key(ec.SECP256R1()))
    header = {"kid": app.state.keyring.active.kid, "typ": "at+jwt"}
    return jwt.encode(claims, stranger.private_pem, algorithm="ES256", headers=header)  # type: ignore[no-any-return]


def tampered_payload(app: FastAPI, claims: dict[str, Any]) -> str:
    header, _, signature = sign(app, claims).split(".")
    return f"{header}.{b64({**claims, 'role': 'sysadmin'})}.{signature}"


Attack = Callable[[FastAPI, dict[str, Any]], str]
ATTACKS: dict[str, tuple[Attack, str]] = {
    "alg_none": (alg_none, "algorithm_not_allowed:none"),
    "hs256_with_public_key": (hs256_with_public_key, "algorithm_not_allowed:HS256"),
    "expired": (lambda app, c: sign(app, {**c, "exp": int(time.time()) - 60}), "expired"),
    "wrong_audience": (lambda app, c: sign(app, {**c, "aud": "another-api"}), "claims_invalid"),
    "wrong_issuer": (
        lambda app, c: sign(app, {**c, "iss": "https://evil.example"}),
        "claims_invalid",
    ),
    "no_expiry": (
        lambda app, c: sign(app, {k: v for k, v in c.items() if k != "exp"}),
        "claims_invalid",
    ),
    "unknown_kid": (lambda app, c: sign(app, c, kid="not-our-key"), "unknown_kid"),
    "forged_signature": (foreign_key_same_kid, "signature_invalid"),
    "tampered_payload": (tampered_payload, "signature_invalid"),
    "not_an_access_token": (lambda app, c: sign(app, c, typ="JWT"), "wrong_token_type"),
    "garbage": (lambda _app, _claims: "not.a.jwt", "malformed"),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
async def test_attack_fails_closed_and_is_audited(
    attack: str,
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    database: Database,
) -> None:
    user = await create_user(session)
    genuine = await auth_headers(app, session, user)
    assert (await client.get("/v1/users/me", headers=genuine)).status_code == 200
    make, reason = ATTACKS[attack]
    response = await client.get(
        "/v1/users/me", headers=bearer(make(app, claims_of(app, user, genuine)))
    )
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "invalid_token"
    assert body["detail"] == "The access token is missing, invalid, expired or revoked."
    assert response.headers["www-authenticate"].startswith("Bearer")
    [event] = await audit_events(database, "auth.token.rejected")
    assert event.reason is not None and event.reason.startswith(reason)
    assert event.outcome == "failure" and event.request_id == response.headers["x-request-id"]


async def test_missing_or_non_bearer_credentials_are_refused(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"}):
        response = await client.get("/v1/users/me", headers=headers)
        assert response.status_code == 401 and response.json()["code"] == "invalid_token"


async def test_a_receipt_signed_with_the_service_key_is_not_an_access_token(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await create_user(session)
    claims = claims_of(app, user, await auth_headers(app, session, user))
    receipt = app.state.keyring.sign(claims)  # same key, no at+jwt type
    assert (await client.get("/v1/users/me", headers=bearer(receipt))).status_code == 401


async def test_tokens_signed_by_a_rotated_out_key_still_verify(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await create_user(session)
    headers = await auth_headers(app, session, user)
    app.state.keyring.rotate()
    assert (await client.get("/v1/users/me", headers=headers)).status_code == 200
