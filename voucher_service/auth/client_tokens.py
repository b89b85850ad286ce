"""``POST /v1/oauth/token`` logic: the client credentials grant for provider API clients.

Clients authenticate with their secret (HTTP Basic or form) or with a ``private_key_jwt``
assertion. Every refusal looks the same to the caller (``invalid_client``); the audit trail keeps
the reason. A used assertion ``jti`` is remembered even when the grant is refused, so an
intercepted assertion can never be tried again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from ledger.sqltypes import utcnow
from providers.clients import service as clients
from providers.clients.assertion import ASSERTION_TYPE, unverified_issuer, verify_client_assertion
from providers.clients.errors import ClientAuthenticationFailed, InvalidScope
from providers.clients.models import ApiClient, AuthMethod, ClientStatus
from providers.clients.scopes import format_scopes, narrow
from voucher_service.audit import service as audit
from voucher_service.audit.service import AuditActor, Outcome
from voucher_service.auth.errors import AccountSuspended, InvalidClient, ScopeRefused
from voucher_service.auth.tokens import issue_access_token
from voucher_service.keys.service import KeyRing
from voucher_service.kit.problems import ProblemError
from voucher_service.organisations.models import Organisation, OrganisationKind, OrganisationStatus
from voucher_service.settings import Settings


@dataclass(frozen=True)
class ClientCredentials:
    """What the caller presented; exactly one of ``client_secret`` and ``assertion``."""

    client_id: str | None
    client_secret: str | None = None
    assertion_type: str | None = None
    assertion: str | None = None
    scope: str | None = None


@dataclass(frozen=True)
class ClientToken:
    access_token: str
    expires_in: int
    scope: str


@dataclass(frozen=True)
class ClientGrantOutcome:
    token: ClientToken | None = None
    refusal: ProblemError | None = None


def client_actor(client: ApiClient) -> AuditActor:
    return AuditActor(
        type="client", id=client.id, label=client.client_id, organisation_id=client.organisation_id
    )


def assertion_audiences(settings: Settings) -> set[str]:
    """The ``aud`` values a client assertion may carry: our issuer or the token endpoint URL."""
    issuer = settings.resolved_token_issuer
    return {issuer, f"{settings.base_url.rstrip('/')}/v1/oauth/token", f"{issuer}/v1/oauth/token"}


async def _authenticate(
    session: AsyncSession, settings: Settings, pepper: bytes, presented: ClientCredentials
) -> ApiClient:
    if presented.assertion is not None:
        if presented.assertion_type != ASSERTION_TYPE:
            raise ClientAuthenticationFailed("unsupported_assertion_type")
        client_id = presented.client_id or unverified_issuer(presented.assertion)
    else:
        client_id = presented.client_id
    client = await clients.get_by_client_id(session, client_id) if client_id else None
    if client is None:
        raise ClientAuthenticationFailed("unknown_client")
    if client.status != ClientStatus.active:
        raise ClientAuthenticationFailed("client_revoked")
    now = utcnow()
    if presented.assertion is not None:
        if client.auth_method != AuthMethod.private_key_jwt:
            raise ClientAuthenticationFailed("wrong_auth_method")
        claims = verify_client_assertion(
            presented.assertion,
            client_id=client.client_id,
            keys=clients.verification_keys(client, now),
            audiences=assertion_audiences(settings),
            now=now,
            max_lifetime_seconds=settings.client_assertion_max_seconds,
        )
        if not await clients.remember_jti(session, client, claims.jti, claims.expires_at):
            raise ClientAuthenticationFailed("assertion_replayed")
    elif client.auth_method != AuthMethod.client_secret:
        raise ClientAuthenticationFailed("wrong_auth_method")
    elif not clients.secret_is_valid(client, presented.client_secret or "", pepper, now):
        raise ClientAuthenticationFailed("wrong_secret")
    return client


async def grant(
    session: AsyncSession,
    settings: Settings,
    keyring: KeyRing,
    pepper: bytes,
    presented: ClientCredentials,
) -> ClientGrantOutcome:
    """An access token for an active client of an active provider, or the refusal."""
    try:
        client = await _authenticate(session, settings, pepper, presented)
    except ClientAuthenticationFailed as exc:
        await _refused(session, presented, None, exc.reason)
        return ClientGrantOutcome(refusal=InvalidClient())
    organisation = await session.get(Organisation, client.organisation_id)
    if (
        organisation is None
        or organisation.kind != OrganisationKind.provider
        or (organisation.status != OrganisationStatus.active)
    ):
        await _refused(session, presented, client, "provider_suspended")
        return ClientGrantOutcome(
            refusal=AccountSuspended("The provider is suspended.", detail_zh="该服务商已被暂停。")
        )
    try:
        scopes = narrow(presented.scope, frozenset(client.scopes.split()))
    except InvalidScope as exc:
        await _refused(session, presented, client, "invalid_scope")
        return ClientGrantOutcome(refusal=ScopeRefused(str(exc), error="invalid_scope"))
    return ClientGrantOutcome(token=await _issue(session, settings, keyring, client, scopes))


async def _issue(
    session: AsyncSession,
    settings: Settings,
    keyring: KeyRing,
    client: ApiClient,
    scopes: frozenset[str],
) -> ClientToken:
    issued = issue_access_token(
        keyring,
        settings,
        kind="client",
        subject=client.id,
        organisation_id=client.organisation_id,
        scopes=scopes,
        lifetime_seconds=settings.client_token_seconds,
    )
    client.last_used_at = utcnow()
    await audit.record(
        session,
        action="auth.client_token.issued",
        actor=client_actor(client),
        target=("api_client", client.id),
        after={"scope": format_scopes(scopes), "method": client.auth_method},
    )
    return ClientToken(issued.token, issued.expires_in, format_scopes(scopes))


async def _refused(
    session: AsyncSession, presented: ClientCredentials, client: ApiClient | None, reason: str
) -> None:
    actor = client_actor(client) if client else AuditActor.anonymous(presented.client_id)
    await audit.record(
        session,
        action="auth.client_token.failed",
        actor=actor,
        target=("api_client", client.id) if client else None,
        outcome=Outcome.failure,
        reason=reason,
    )
