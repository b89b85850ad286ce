"""Client credentials (``client_secret`` or ``private_key_jwt``) and the access token cache.

The token is fetched on first use, refreshed ``refresh_margin`` seconds before it expires (never
later than half-way through its life), and again at once when the service answers 401 to it.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from jose import jwt

from providers.sdk.flow import Reply, RequestSpec, Step, attempts, expect
from providers.sdk.retry import RetryPolicy

TOKEN_PATH = "/v1/oauth/token"  # noqa: S105 - a path, not a secret
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass(frozen=True)
class ClientSecret:
    """An API client that authenticates with its secret (sent as HTTP Basic, RFC 6749 2.3.1)."""

    client_id: str
    client_secret: str = ""

    def token_form(self, _audience: str) -> tuple[dict[str, str], dict[str, str]]:
        basic = f"{quote(self.client_id, safe='')}:{quote(self.client_secret, safe='')}"
        header = "Basic " + base64.b64encode(basic.encode()).decode()
        return {"grant_type": "client_credentials"}, {"Authorization": header}


@dataclass(frozen=True)
class PrivateKeyJwt:
    """An API client that proves itself with a JWT signed by its private key (RFC 7523).

    ``private_key`` is the PEM of the key whose public JWK was registered for the client;
    ``algorithm`` is ES256 for an EC P-256 key, RS256 for RSA. The same key signs callbacks."""

    client_id: str
    private_key: str
    key_id: str | None = None
    algorithm: str = "ES256"
    assertion_seconds: int = 60

    def assertion(self, audience: str, now: float | None = None) -> str:
        issued = int(now if now is not None else time.time())
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": audience,
            "iat": issued,
            "exp": issued + self.assertion_seconds,
            "jti": uuid.uuid4().hex,
        }
        headers = {"kid": self.key_id} if self.key_id else None
        token: str = jwt.encode(claims, self.private_key, algorithm=self.algorithm, headers=headers)
        return token

    def token_form(self, audience: str) -> tuple[dict[str, str], dict[str, str]]:
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self.assertion(audience),
        }
        return form, {}


Credentials = ClientSecret | PrivateKeyJwt


@dataclass(frozen=True)
class AccessToken:
    value: str
    scope: str
    refresh_at: float
    expires_at: float


class TokenCache:
    """The current access token of one client (not thread-safe: the drivers lock around it)."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        audience: str,
        scope: str | None = None,
        refresh_margin: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.credentials = credentials
        self.audience = audience
        self.scope = scope
        self.refresh_margin = refresh_margin
        self.clock = clock
        self.current: AccessToken | None = None
        self.fetched = 0

    def usable(self, rejected: str | None = None) -> str | None:
        """The cached token unless it is due for refresh or is the one just rejected."""
        token = self.current
        if token is None or token.value == rejected or self.clock() >= token.refresh_at:
            return None
        return token.value

    def fetch(self, policy: RetryPolicy) -> Generator[Step, Reply, str]:
        """A flow that gets a new token from ``POST /v1/oauth/token`` and caches it."""

        def build() -> RequestSpec:
            # A private_key_jwt assertion is single-use: every attempt signs a new one.
            form, headers = self.credentials.token_form(self.audience)
            if self.scope:
                form["scope"] = self.scope
            return RequestSpec("POST", TOKEN_PATH, data=form, headers=headers)

        started = self.clock()
        response = yield from attempts(build, policy)
        body: dict[str, Any] = expect(response, dict)
        lifetime = float(body.get("expires_in", 300))
        margin = min(self.refresh_margin, lifetime / 2)
        self.current = AccessToken(
            value=body["access_token"],
            scope=body.get("scope", ""),
            refresh_at=started + lifetime - margin,
            expires_at=started + lifetime,
        )
        self.fetched += 1
        return self.current.value
