"""What the schemathesis tests share: the app on schemathesis' own event loop, its callers, the
OpenAPI document as schemathesis needs to read it, and a tally of findings.

schemathesis sends requests (and the extra requests of its ``ignored_auth`` and
``object_level_authorization`` checks) to an ASGI app through one event loop of its own, in a
thread, and starts the app's lifespan there. The database pool must belong to that loop, so the
test lets schemathesis start the app and arranges its data on the same loop.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import schemathesis
from fastapi import FastAPI
from schemathesis.python import asgi
from schemathesis.schemas import BaseSchema

from tests.factories import (
    auth_headers,
    bearer,
    create_organisation,
    create_provider_client,
    create_user,
)
from tests.redemptions.factories import create_seller, redeem, voucher_for
from voucher_service.app import create_app
from voucher_service.organisations.models import Organisation, OrganisationKind
from voucher_service.settings import Settings
from voucher_service.users.models import Role

EXAMPLES = int(os.environ.get("VOUCHER_FUZZ_EXAMPLES", "2"))
DERANDOMIZE = EXAMPLES <= 10
ANONYMOUS = ("anonymous", "garbage_token")
USER_ROLES = {
    "enterprise_owner": Role.owner,
    "provider_operator": Role.operator,
    "program_admin": Role.program_admin,
    "reviewer": Role.reviewer,
    "finance": Role.finance,
    "auditor": Role.auditor,
    "sysadmin": Role.sysadmin,
}
BEARER = "bearerAuth"


@dataclass
class Findings:
    cases: int = 0
    scenarios: int = 0
    linked: int = 0  # stateful steps whose input came from an earlier response through a link
    owner_reads: int = (
        0  # a peer's 2xx GET after its own step: what object_level_authorization probes
    )
    failures: dict[str, str] = field(default_factory=dict)

    def add(self, key: str, failure: BaseException) -> None:
        parts = [str(failure)]
        if isinstance(failure, BaseExceptionGroup):
            parts += [f"{type(e).__name__}: {e}" for e in failure.exceptions]
        self.failures.setdefault(key, "\n".join(parts)[:2000])

    def report(self) -> str:
        return "\n\n".join(f"{key}\n{text}" for key, text in sorted(self.failures.items()))


@dataclass
class World:
    app: FastAPI
    callers: dict[str, dict[str, str]]  # name -> headers
    known_ids: dict[str, str]  # path parameter -> an object of another organisation

    def schema(self) -> BaseSchema:
        loaded = schemathesis.openapi.from_dict(bearer_document(self.app.openapi()))
        loaded.app = self.app
        return loaded


def bearer_document(document: dict[str, Any]) -> dict[str, Any]:
    """The document with its OAuth2 requirement stated as the bearer token it is on the wire.

    schemathesis strips and forges only ``apiKey`` and ``http`` credentials; for an ``oauth2``
    scheme its ``ignored_auth`` check would silently check nothing. Our OAuth2 flows issue a
    bearer token sent as ``Authorization: Bearer``, so this is the same requirement.
    """
    described = copy.deepcopy(document)
    described["components"]["securitySchemes"] = {
        BEARER: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    }
    for operations in described["paths"].values():
        for operation in operations.values():
            if operation.get("security"):
                operation["security"] = [{BEARER: []}]
    return described


async def _arrange(app: FastAPI) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    database = app.state.database
    callers: dict[str, dict[str, str]] = {"anonymous": {}, "garbage_token": bearer("x.y.z")}
    transport = httpx.ASGITransport(app=app)
    async with (
        database.session() as session,
        httpx.AsyncClient(transport=transport, base_url="https://testserver") as client,
    ):
        users = {name: await create_user(session, role=role) for name, role in USER_ROLES.items()}
        for name, user in users.items():
            callers[name] = await auth_headers(app, session, user)
        # The owner's voucher, redeemable by the provider client, and one redemption: objects
        # the stateful phase finds by listing, then reads, and the peers must not see.
        seller = await create_seller(app, client, session)
        callers["provider_client"] = seller.headers
        holder = await session.get(Organisation, users["enterprise_owner"].organisation_id)
        voucher = await voucher_for(session, seller, holder=holder)
        assert (await redeem(client, seller, voucher)).status_code == 201
        # Objects of other organisations: path parameters, and peers that must not see ours.
        enterprise = await create_organisation(session)
        member = await create_user(session, organisation=enterprise, role=Role.member)
        other_owner = await create_user(session, organisation=enterprise, role=Role.owner)
        callers["other_enterprise_owner"] = await auth_headers(app, session, other_owner)
        provider = await create_organisation(session, kind=OrganisationKind.provider)
        other_client = await create_provider_client(app, session, organisation=provider)
    known_ids = {
        "user_id": str(member.id),
        "organisation_id": str(enterprise.id),
        "provider_id": str(provider.id),
        "client_pk": str(other_client.client.id),
    }
    return callers, known_ids


def fuzz_settings(settings: Settings) -> Settings:
    # Generated logins would otherwise be limited within seconds and hide the code behind.
    limits = ("login_per_address", "login_per_account", "token_per_address", "token_per_client")
    return settings.model_copy(update={f"rate_limit_{limit}": 0 for limit in limits})


def running_world(settings: Settings) -> Iterator[World]:
    """The app started on schemathesis' event loop, with its callers arranged on that loop."""
    app = create_app(settings)
    client = asgi.get_client(app)
    with client:  # starts the lifespan on schemathesis' loop and keeps it for this test
        # Private to schemathesis: the portal to the loop it sends requests on.
        callers, known_ids = asgi._get_portal().call(_arrange, app)
        try:
            yield World(app, callers, known_ids)
        finally:
            asgi.shutdown_lifespans()
