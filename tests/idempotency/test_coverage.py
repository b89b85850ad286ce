"""Every mutating API route honours ``Idempotency-Key``, unless it is exempt here, with a reason."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI, routing
from fastapi.routing import APIRoute

from voucher_service.app import create_app
from voucher_service.idempotency import IdempotentRoute
from voucher_service.settings import Settings

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}

#: Portal forms are posted by a browser, which sends no Idempotency-Key; a form carries its own
#: CSRF token, and a repeated post lands on the state the first one left (post/redirect/get).
PORTAL = "/portal/"

#: (method, path) -> why the route does not opt in. Nothing else may stay out.
EXEMPT: dict[tuple[str, str], str] = {
    # Unauthenticated: there is no caller to own a key (log in, refresh, one-time tokens, sign up).
    ("POST", "/v1/auth/token"): "unauthenticated; the answer holds tokens",
    ("POST", "/v1/auth/refresh"): "unauthenticated (refresh token in the body)",
    ("POST", "/v1/auth/password-token"): "unauthenticated (one-time token in the body)",
    ("POST", "/v1/auth/register"): "unauthenticated: registration of a new enterprise",
    ("POST", "/v1/oauth/token"): "unauthenticated client credentials grant; answer holds a token",
    ("POST", "/v1/publicity/{application_id}/objections"): "unauthenticated public objection",
    # Authenticated, but the session the key would belong to is what the route ends.
    ("POST", "/v1/auth/logout"): "ends the session that authenticates a retry",
    # The answer holds a secret shown once: the stored record would keep it.
    ("POST", "/v1/auth/password"): "the answer holds the new session's tokens",
    ("POST", "/v1/organisations/me/members"): "the answer holds the invitation token",
    ("POST", "/v1/admin/users"): "the answer holds the set-up token",
    ("POST", "/v1/admin/users/{user_id}/password-reset"): "the answer holds the set-up token",
    ("POST", "/v1/provider/api-clients"): "the answer holds the client secret",
    ("POST", "/v1/provider/api-clients/{client_pk}/rotate"): "the answer holds the new secret",
    ("PUT", "/v1/provider/webhook-endpoint"): "the first answer holds the signing secret",
    ("POST", "/v1/provider/webhook-endpoint/rotate-secret"): "the answer holds the new secret",
    # Idempotent by their own, older contract: the key is the ledger transfer's (kept for ever,
    # per programme), the answer says ``replayed``, a reused key is 409 ``funding_key_reused``.
    ("POST", "/v1/admin/programs/{program_id}/fund"): "idempotent in the ledger by its own key",
    # Signed provider callbacks are stored once per (provider, callback id): their own dedup.
    ("POST", "/v1/provider/callbacks"): "deduplicated by the callback's id (providers.callbacks)",
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """The application's routes; no request is made, so no database is needed."""
    data: Path = tmp_path_factory.mktemp("coverage")
    return create_app(
        Settings(
            database_url=f"sqlite+aiosqlite:///{data / 'unused.db'}",
            data_dir=data,
            environment="development",
            embedded_worker=False,
            _env_file=None,  # type: ignore[call-arg]
        )
    )


def mutating_routes(app: FastAPI) -> Iterator[tuple[str, str, APIRoute]]:
    for context in routing.iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        for method in sorted(route.methods & MUTATING):
            yield method, str(context.path), route


def test_every_mutating_route_is_idempotent_or_exempt(served: FastAPI) -> None:
    missing = [
        f"{method} {path}"
        for method, path, route in mutating_routes(served)
        if not path.startswith(PORTAL)
        and not isinstance(route, IdempotentRoute)
        and (method, path) not in EXEMPT
    ]
    assert not missing, (
        "mutating routes without an idempotent route class (docs/CONVENTIONS.md, "
        f"'Idempotency keys'), nor an exemption in {__name__}.EXEMPT: {missing}"
    )


def test_exemptions_are_real(served: FastAPI) -> None:
    """An exemption names a route that exists and really stays out (or the list goes stale)."""
    outside = {
        (method, path)
        for method, path, route in mutating_routes(served)
        if not isinstance(route, IdempotentRoute)
    }
    stale = sorted(set(EXEMPT) - outside)
    assert not stale, f"exemptions for routes that are idempotent or gone: {stale}"
