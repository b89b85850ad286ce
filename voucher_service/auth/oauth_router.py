"""``POST /v1/oauth/token``: the OAuth2 client credentials grant for provider API clients."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, Form, Header

from voucher_service.auth import client_tokens
from voucher_service.auth.client_tokens import ClientCredentials
from voucher_service.auth.errors import UnsupportedGrantType
from voucher_service.auth.pepper import PepperDep
from voucher_service.auth.schemas import ClientTokenResponse
from voucher_service.dependencies import DatabaseDep, KeyRingDep, SettingsDep
from voucher_service.kit.context import current_client_address
from voucher_service.kit.problems import problem_responses
from voucher_service.ratelimit import service as ratelimit

router = APIRouter(tags=["auth"])


def _basic(authorization: str | None) -> tuple[str, str] | None:
    """``client_secret_basic`` (RFC 6749 2.3.1): form-urlencoded id and secret in Basic auth."""
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    # Malformed credentials authenticate nobody; the grant refuses (and audits) them as such.
    client_id, _, secret = decoded.partition(":")
    return unquote(client_id), unquote(secret)


def _credentials(
    authorization: str | None,
    client_id: str | None,
    client_secret: str | None,
    client_assertion_type: str | None,
    client_assertion: str | None,
    scope: str | None,
) -> ClientCredentials:
    basic = _basic(authorization)
    if basic is not None:
        client_id, client_secret = basic
    return ClientCredentials(
        client_id=client_id,
        client_secret=client_secret,
        assertion_type=client_assertion_type,
        assertion=client_assertion,
        scope=scope,
    )


async def _rate_limit(database: DatabaseDep, settings: SettingsDep, client_id: str | None) -> None:
    address = current_client_address.get() or "unknown"
    await ratelimit.check(
        database,
        [
            ratelimit.Limit(
                ratelimit.key_for("token", "address", address),
                settings.rate_limit_token_per_address,
            ),
            ratelimit.Limit(
                ratelimit.key_for("token", "client", client_id or "-"),
                settings.rate_limit_token_per_client,
            ),
        ],
        window_seconds=settings.rate_limit_window_seconds,
    )


@router.post(
    "/v1/oauth/token",
    summary="Get an access token for a provider API client (client credentials grant)",
    description="Authenticate with `client_secret` (HTTP Basic or form) or with a "
    "`private_key_jwt` client assertion (RFC 7523) signed by the key registered for the client.",
    responses=problem_responses(400, 401, 403, 422, 429),
)
async def client_token(
    database: DatabaseDep,
    settings: SettingsDep,
    keyring: KeyRingDep,
    pepper: PepperDep,
    grant_type: Annotated[str, Form(max_length=100)],
    client_id: Annotated[str | None, Form(max_length=64)] = None,
    client_secret: Annotated[str | None, Form(max_length=200)] = None,
    client_assertion_type: Annotated[str | None, Form(max_length=200)] = None,
    client_assertion: Annotated[str | None, Form(max_length=8000)] = None,
    scope: Annotated[str | None, Form(max_length=500)] = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> ClientTokenResponse:
    presented = _credentials(
        authorization, client_id, client_secret, client_assertion_type, client_assertion, scope
    )
    await _rate_limit(database, settings, presented.client_id)
    if grant_type != "client_credentials":
        raise UnsupportedGrantType(
            "Only the client_credentials grant is supported here.", error="unsupported_grant_type"
        )
    async with database.unit_of_work() as session:
        outcome = await client_tokens.grant(session, settings, keyring, pepper, presented)
    if outcome.refusal is not None:
        raise outcome.refusal
    assert outcome.token is not None  # noqa: S101 - an outcome has one or the other
    return ClientTokenResponse(
        access_token=outcome.token.access_token,
        expires_in=outcome.token.expires_in,
        scope=outcome.token.scope,
    )
