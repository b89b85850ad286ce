"""Access tokens: ES256 JWTs signed with the service key ring (RFC 9068 profile).

Verification trusts nothing in the token before the signature: the algorithm is pinned to ES256
(``none`` and HS256-with-our-public-key are refused before any key is touched), the ``typ`` must
be ``at+jwt`` (so a receipt or ledger seal signed with the same key is never an access token),
the ``kid`` must name one of our keys, and ``iss``, ``aud``, ``exp``, ``iat``, ``sub`` and ``jti``
are required and checked.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast

from jose import jws, jwt
from jose.exceptions import ExpiredSignatureError, JOSEError, JWSError

from voucher_service.keys.service import ALGORITHM, KeyRing
from voucher_service.settings import Settings

TOKEN_TYPE = "at+jwt"  # noqa: S105 - the RFC 9068 media type
LEEWAY_SECONDS = 10

PrincipalKind = Literal["user", "client"]


class TokenRejected(Exception):
    """An access token failed verification; ``reason`` is for the audit trail only."""

    def __init__(self, reason: str, subject: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.subject = subject


@dataclass(frozen=True)
class AccessClaims:
    kind: PrincipalKind
    subject: uuid.UUID
    organisation_id: uuid.UUID
    role: str | None
    scopes: frozenset[str]
    session_id: uuid.UUID | None
    epoch: int
    jti: str
    expires_at: datetime


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_in: int


def issue_access_token(
    keyring: KeyRing,
    settings: Settings,
    *,
    kind: PrincipalKind,
    subject: uuid.UUID,
    organisation_id: uuid.UUID,
    role: str | None = None,
    scopes: frozenset[str] = frozenset(),
    session_id: uuid.UUID | None = None,
    epoch: int = 0,
    lifetime_seconds: int,
) -> IssuedToken:
    """A signed access token for a user (with its session) or an API client (with scopes)."""
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": settings.resolved_token_issuer,
        "aud": settings.token_audience,
        "sub": str(subject),
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=lifetime_seconds)).timestamp()),
        "jti": secrets.token_urlsafe(16),
        "ptype": kind,
        "org": str(organisation_id),
        "ver": epoch,
    }
    if role:
        claims["role"] = role
    if scopes:
        claims["scope"] = " ".join(sorted(scopes))
    if session_id:
        claims["sid"] = str(session_id)
    key = keyring.active
    token = jwt.encode(
        claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid, "typ": TOKEN_TYPE}
    )
    return IssuedToken(token=cast(str, token), expires_in=lifetime_seconds)


def _header(token: str) -> dict[str, Any]:
    try:
        header = jws.get_unverified_header(token)
    except JOSEError as exc:
        raise TokenRejected("malformed") from exc
    if not isinstance(header, dict):
        raise TokenRejected("malformed")
    return header


def _unverified_subject(token: str) -> str | None:
    try:
        subject = jwt.get_unverified_claims(token).get("sub")
    except (JOSEError, AttributeError):
        return None
    return str(subject)[:100] if subject is not None else None


def _verify(keyring: KeyRing, settings: Settings, token: str) -> dict[str, Any]:
    header = _header(token)
    if header.get("alg") != ALGORITHM:
        raise TokenRejected(f"algorithm_not_allowed:{str(header.get('alg'))[:20]}")
    if header.get("typ") != TOKEN_TYPE:
        raise TokenRejected("wrong_token_type")
    key = next((k for k in keyring.keys if k.kid == header.get("kid")), None)
    if key is None:
        raise TokenRejected("unknown_kid")
    options = {f"require_{claim}": True for claim in ("aud", "iat", "exp", "iss", "sub", "jti")}
    try:
        claims = jwt.decode(
            token,
            key.public_key,
            algorithms=[ALGORITHM],
            audience=settings.token_audience,
            issuer=settings.resolved_token_issuer,
            options={**options, "leeway": LEEWAY_SECONDS},
        )
    except ExpiredSignatureError as exc:
        raise TokenRejected("expired") from exc
    except JOSEError as exc:
        # jose wraps a failed signature check (JWSError) in a JWTError; anything else is a claim.
        bad_signature = isinstance(exc.__context__, JWSError) or isinstance(exc, JWSError)
        reason = "signature_invalid" if bad_signature else f"claims_invalid:{str(exc)[:60]}"
        raise TokenRejected(reason) from exc
    return cast(dict[str, Any], claims)


def decode_access_token(keyring: KeyRing, settings: Settings, token: str) -> AccessClaims:
    """The verified claims of ``token``, or TokenRejected with the reason."""
    try:
        claims = _verify(keyring, settings, token)
    except TokenRejected as exc:
        exc.subject = _unverified_subject(token)
        raise
    try:
        kind = claims["ptype"]
        if kind not in ("user", "client"):
            raise ValueError(kind)
        scope = claims.get("scope", "")
        return AccessClaims(
            kind=kind,
            subject=uuid.UUID(claims["sub"]),
            organisation_id=uuid.UUID(claims["org"]),
            role=claims.get("role"),
            scopes=frozenset(scope.split()) if isinstance(scope, str) else frozenset(),
            session_id=uuid.UUID(claims["sid"]) if claims.get("sid") else None,
            epoch=int(claims.get("ver", 0)),
            jti=str(claims["jti"]),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise TokenRejected("claims_malformed", str(claims.get("sub"))[:100]) from exc
