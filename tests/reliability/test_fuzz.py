"""Schemathesis fuzzing of every operation in our own OpenAPI, as every kind of caller.

Each operation is fuzzed with generated requests as an enterprise owner, a provider operator, a
provider API client, a programme admin, a reviewer, finance, an auditor and a sysadmin, and
without credentials or with a garbage token. Checks on every response:

* ``not_a_server_error``: never a 5xx;
* ``response_schema_conformance`` and ``content_type_conformance``: the body matches what the
  OpenAPI documents for that status (problems included);
* ignored auth: an operation that declares a security requirement answers 401 to a caller
  without credentials or with a garbage token (our own check: schemathesis' ``ignored_auth``
  re-sends through a transport of its own, outside the event loop that owns the database).

Requests go through httpx's ASGI transport on one event loop (the one the app's database pool
belongs to). Path parameters that name an object get, in half of the runs, a real object of
another organisation (so the rules run further than a 404 on a random id).

Budget: ``VOUCHER_FUZZ_EXAMPLES`` examples per operation and caller (CI: 2, derandomised, about
a minute on two cores); the release run sets it to 200 or more (random seeds), see
docs/RELIABILITY.md. Routes added later are fuzzed without editing this file.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from tests import databases
from tests.factories import (
    auth_headers,
    bearer,
    client_token,
    create_organisation,
    create_provider_client,
    create_user,
)
from voucher_service.app import create_app
from voucher_service.organisations.models import OrganisationKind
from voucher_service.settings import Settings
from voucher_service.users.models import Role

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("VOUCHER_FUZZ_EXAMPLES", "2"))
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
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
# Ending the caller's own session would blind the rest of the run; these are fuzzed anonymously.
SESSION_ENDING = {"POST /v1/auth/logout", "POST /v1/auth/password"}


@dataclass
class Findings:
    cases: int = 0
    failures: dict[str, str] = field(default_factory=dict)

    def add(self, key: str, text: str) -> None:
        self.failures.setdefault(key, text)


@dataclass
class World:
    app: FastAPI
    client: httpx.AsyncClient
    loop: asyncio.AbstractEventLoop
    callers: dict[str, dict[str, str]]
    known_ids: dict[str, str]

    def send(self, case: Any, headers: dict[str, str]) -> httpx.Response:
        """Send ``case`` exactly as requests would have encoded it, through the ASGI app."""
        kwargs = case.as_transport_kwargs(base_url="https://testserver")
        prepared = requests.Request(
            method=kwargs["method"],
            url=kwargs["url"],
            headers={**kwargs.get("headers", {}), **headers},
            params=kwargs.get("params"),
            json=kwargs.get("json"),
            data=kwargs.get("data"),
            files=kwargs.get("files"),
            cookies=kwargs.get("cookies"),
        ).prepare()
        sent_headers = {k: v for k, v in prepared.headers.items() if k.lower() != "accept-encoding"}
        request = self.client.request(
            prepared.method or "GET",
            prepared.url or "",
            headers=sent_headers,
            content=prepared.body,
        )
        return self.loop.run_until_complete(request)


async def _arrange(
    app: FastAPI, client: httpx.AsyncClient
) -> tuple[dict[str, Any], dict[str, str]]:
    database = app.state.database
    callers: dict[str, dict[str, str]] = {"anonymous": {}, "garbage_token": bearer("x.y.z")}
    async with database.session() as session:
        for name, role in USER_ROLES.items():
            user = await create_user(session, role=role)
            callers[name] = await auth_headers(app, session, user)
        issued = await create_provider_client(app, session)
        callers["provider_client"] = bearer(await client_token(client, issued))
        # Objects of other organisations for path parameters.
        enterprise = await create_organisation(session)
        member = await create_user(session, organisation=enterprise, role=Role.member)
        provider = await create_organisation(session, kind=OrganisationKind.provider)
        other_client = await create_provider_client(app, session, organisation=provider)
    known_ids = {
        "user_id": str(member.id),
        "organisation_id": str(enterprise.id),
        "provider_id": str(provider.id),
        "client_pk": str(other_client.client.id),
    }
    return callers, known_ids


@pytest.fixture
def world(sqlite_template: Path, tmp_path: Path) -> Iterator[World]:
    settings = Settings(
        database_url=databases.copy_sqlite(sqlite_template, tmp_path),
        data_dir=tmp_path / "data",
        environment="development",
        embedded_worker=False,
        password_hash_time_cost=1,
        password_hash_memory_kib=1024,
        password_hash_parallelism=1,
        # Generated logins would otherwise be limited within seconds and hide the code behind.
        rate_limit_login_per_address=0,
        rate_limit_login_per_account=0,
        rate_limit_token_per_address=0,
        rate_limit_token_per_client=0,
        _env_file=None,  # type: ignore[call-arg]
    )
    app = create_app(settings)
    loop = asyncio.new_event_loop()
    lifespan = app.router.lifespan_context(app)
    loop.run_until_complete(lifespan.__aenter__())
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    client = httpx.AsyncClient(transport=transport, base_url="https://testserver")
    try:
        callers, known_ids = loop.run_until_complete(_arrange(app, client))
        yield World(app, client, loop, callers, known_ids)
    finally:
        loop.run_until_complete(client.aclose())
        loop.run_until_complete(lifespan.__aexit__(None, None, None))
        loop.close()


def _secured(operation: APIOperation) -> bool:
    return bool(operation.definition.raw.get("security"))


def _fuzz(world: World, operation: APIOperation, findings: Findings) -> None:
    """Generated requests for ``operation``, each sent once as every caller."""
    callers = [
        caller
        for caller in world.callers
        if caller in ANONYMOUS or operation.label not in SESSION_ENDING
    ]
    names = [p.name for p in operation.path_parameters]
    known = {name: world.known_ids[name] for name in names if name in world.known_ids}
    strategies = [operation.as_strategy()]
    if known:
        strategies.append(operation.as_strategy(path_parameters=known))
    for strategy in strategies:

        @hypothesis_settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=EXAMPLES <= 10,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def run(case: Any) -> None:
            for caller in callers:
                _check(world, operation, case, caller, findings)

        run()


def _check(
    world: World, operation: APIOperation, case: Any, caller: str, findings: Findings
) -> None:
    response = world.send(case, world.callers[caller])
    findings.cases += 1
    label = f"{operation.label} as {caller}"
    if caller in ANONYMOUS and _secured(operation) and response.status_code != 401:
        findings.add(f"{label}: ignored_auth", f"{response.status_code} {response.text[:500]}")
    try:
        case.validate_response(response, checks=CHECKS)
    except (Exception, BaseExceptionGroup) as failure:  # a group of failed checks
        findings.add(f"{label}: {type(failure).__name__}", _describe(failure))


def _describe(failure: BaseException) -> str:
    parts = [str(failure)]
    if isinstance(failure, BaseExceptionGroup):
        parts += [f"{type(e).__name__}: {e}" for e in failure.exceptions]
    return "\n".join(parts)[:2000]


def test_every_operation_as_every_caller(world: World) -> None:
    schema = schemathesis.openapi.from_dict(world.app.openapi())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40
    findings = Findings()
    for operation in operations:
        _fuzz(world, operation, findings)
    print(f"fuzz: {len(operations)} operations, {findings.cases} cases")
    report = "\n\n".join(f"{key}\n{text}" for key, text in sorted(findings.failures.items()))
    assert not findings.failures, f"{len(findings.failures)} findings:\n{report}"
