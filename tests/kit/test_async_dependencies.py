"""Every dependency of every route is a coroutine: FastAPI runs a plain function (or a class) in
its thread pool, a thread hand-off per request that costs more than the work (issue 6)."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import OAuth2PasswordRequestForm

#: FastAPI's own form class for the password grant (a login costs an argon2 hash anyway).
ALLOWED = {OAuth2PasswordRequestForm}


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if hasattr(route, "original_router"):  # FastAPI's included router
            yield from _api_routes(route.original_router.routes)
        elif isinstance(route, APIRoute):
            yield route


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def _runs_on_the_loop(call: Any) -> bool:
    function = call if inspect.isroutine(call) else type(call).__call__
    if inspect.isclass(call):
        return False
    return inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function)


def test_no_route_runs_a_dependency_or_endpoint_in_the_thread_pool(app: FastAPI) -> None:
    routes = list(_api_routes(app.routes))
    assert len(routes) > 200
    sync = {
        f"{route.path}: {getattr(call, '__qualname__', call)}"
        for route in routes
        for call in [route.endpoint, *_calls(route.dependant)]
        if call not in ALLOWED and not _runs_on_the_loop(call)
    }
    assert not sync, sorted(sync)
