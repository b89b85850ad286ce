"""The authorisation matrix (see ``matrix.py``): run it, and make sure it covers every route."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, routing
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import Mount

from tests.authz import portal_cases
from tests.authz.matrix import ROUTES, RouteCase
from tests.authz.world import Actor, World, build_world
from voucher_service.organisations.models import Organisation

IGNORED_METHODS = {"HEAD", "OPTIONS"}
CASES = {case.key: case for case in ROUTES}


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the application serves; mounts as ("MOUNT", prefix)."""
    found: set[tuple[str, str]] = set()
    for context in routing.iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, Mount):
            found.add(("MOUNT", str(context.path)))
            continue
        for method in getattr(route, "methods", None) or ():
            if method not in IGNORED_METHODS:
                found.add((method, str(context.path)))
    return found


def test_matrix_has_no_duplicates() -> None:
    assert len(CASES) == len(ROUTES)


async def test_every_route_is_in_the_matrix(app: FastAPI) -> None:
    served = app_routes(app)
    missing = sorted(served - CASES.keys())
    stale = sorted(CASES.keys() - served)
    assert not missing, f"routes without an authorisation case in tests/authz/matrix.py: {missing}"
    assert not stale, f"cases for routes that no longer exist: {stale}"


def targets(world: World, case: RouteCase) -> list[Organisation | None]:
    if case.target is None:
        return [None]
    return [world.org(kind, which) for kind in case.target_kinds for which in ("A", "B")]


async def attempt(
    world: World, case: RouteCase, actor: Actor, owner: Organisation | None
) -> httpx.Response:
    if case.arrange:
        await case.arrange(world, actor)
    params = await case.target(world, owner, actor) if case.target and owner else case.params
    url = case.path.format(**params)
    body = await case.json(world, actor) if case.json else None
    form = await case.form(world, actor) if case.form else None
    query = await case.query(world, actor) if case.query else None
    if case.portal:
        return await portal_cases.attempt(world, case, actor, url, form, query)
    if case.method == "MOUNT":
        return await world.client.get(f"{url}/{case.asset}", headers=actor.headers)
    headers = {
        **actor.headers,
        **((await case.headers(world, actor) or {}) if case.headers else {}),
    }
    return await world.client.request(
        case.method, url, json=body, data=form, params=query, headers=headers
    )


@pytest.mark.parametrize("case", ROUTES, ids=lambda case: f"{case.method} {case.path}")
async def test_authorisation(
    case: RouteCase, app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    settings = app.state.settings
    for limit in (
        "login_per_address",
        "login_per_account",
        "token_per_address",
        "token_per_client",
    ):
        setattr(settings, f"rate_limit_{limit}", 0)
    world = await build_world(app, client, session)
    wrong: list[str] = []
    for actor in world.actors:
        for owner in targets(world, case):
            response = await attempt(world, case, actor, owner)
            allowed = case.allow(actor, owner)
            if case.portal:
                ok = portal_cases.verdict(case, actor, response, allowed)
            elif allowed:
                ok = response.status_code in case.ok or (
                    case.method == "MOUNT" and response.status_code == 200
                )
            elif actor.anonymous:
                ok = response.status_code == 401
            else:
                ok = response.status_code in (401, 403, 404)
            if not ok:
                where = f" on {owner.name}" if owner else ""
                verdict = "allowed" if allowed else "refused"
                got = f"{response.status_code} {response.text[:120]}"
                wrong.append(f"{actor.name}{where}: expected {verdict}, got {got}")
    assert not wrong, "\n".join(wrong)
