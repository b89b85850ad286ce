"""Verifying ``private_key_jwt`` client assertions (RFC 7523 section 3, OIDC Core 9).

The assertion is a JWT the provider signs with its own private key: ``iss`` and ``sub`` are its
client id, ``aud`` names our token endpoint, ``exp`` is near, ``jti`` unique. Uniqueness of
``jti`` is enforced by the caller (see ``service.remember_jti``), which stores it until ``exp``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from jose import jws, jwt
from jose.exceptions import JOSEError

from providers.clients.errors import ClientAuthenticationFailed
from providers.clients.jwk import PublicJwk

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
LEEWAY_SECONDS = 30
MAX_JTI_LENGTH = 200


@dataclass(frozen=True)
class AssertionClaims:
    jti: str
    expires_at: datetime


def unverified_issuer(assertion: str) -> str | None:
    """The ``iss`` of an assertion before verification, to find the client's keys."""
    try:
        claims = jwt.get_unverified_claims(assertion)
    except JOSEError:
        return None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    return issuer if isinstance(issuer, str) else None


def _pick_keys(assertion: str, keys: Sequence[PublicJwk]) -> list[PublicJwk]:
    try:
        header = cast(dict[str, Any], jws.get_unverified_header(assertion))
    except JOSEError as exc:
        raise ClientAuthenticationFailed("assertion_malformed") from exc
    # The algorithm is pinned by the registered key, never taken from the token.
    candidates = [key for key in keys if key.alg == header.get("alg")]
    if not candidates:
        raise ClientAuthenticationFailed("assertion_algorithm_not_allowed")
    kid = header.get("kid")
    by_kid = [key for key in candidates if key.jwk.get("kid") == kid]
    return by_kid or candidates


def _decode(assertion: str, key: PublicJwk, client_id: str) -> dict[str, Any]:
    options = {
        "require_exp": True,
        "require_iss": True,
        "require_sub": True,
        "require_jti": True,
        "verify_aud": False,  # checked below: several audiences are acceptable
        "leeway": LEEWAY_SECONDS,
    }
    claims = jwt.decode(
        assertion,
        key.jwk,
        algorithms=[key.alg],
        options=options,
        issuer=client_id,
        subject=client_id,
    )
    return cast(dict[str, Any], claims)


def _check_audience(claims: dict[str, Any], audiences: Iterable[str]) -> None:
    aud = claims.get("aud")
    values = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if not set(values) & set(audiences):
        raise ClientAuthenticationFailed("assertion_wrong_audience")


def verify_client_assertion(
    assertion: str,
    *,
    client_id: str,
    keys: Sequence[PublicJwk],
    audiences: Iterable[str],
    now: datetime,
    max_lifetime_seconds: int,
) -> AssertionClaims:
    """The verified ``jti`` and expiry of ``assertion``, or ClientAuthenticationFailed."""
    claims: dict[str, Any] | None = None
    for key in _pick_keys(assertion, keys):
        try:
            claims = _decode(assertion, key, client_id)
            break
        except JOSEError:
            continue
    if claims is None:
        raise ClientAuthenticationFailed("assertion_invalid")
    _check_audience(claims, audiences)
    expires_at = datetime.fromtimestamp(int(claims["exp"]), UTC)
    if (expires_at - now).total_seconds() > max_lifetime_seconds + LEEWAY_SECONDS:
        raise ClientAuthenticationFailed("assertion_lifetime_too_long")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI_LENGTH:
        raise ClientAuthenticationFailed("assertion_jti_invalid")
    return AssertionClaims(jti=jti, expires_at=expires_at)
