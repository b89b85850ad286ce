"""The FastAPI application: routers, problem handlers, middleware, lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator

from fastapi import APIRouter, FastAPI
from fastapi_offline import FastAPIOffline
from starlette.routing import BaseRoute
from starlette.staticfiles import StaticFiles

import voucher_service.accounting.problems  # noqa: F401  (maps ledger errors before handlers)
from voucher_service import __version__
from voucher_service.applications.routers import ROUTERS as APPLICATION_ROUTERS
from voucher_service.applications.routers import upload_limits
from voucher_service.audit.router import router as audit_router
from voucher_service.audit.service import AuditFlushMiddleware
from voucher_service.auth.oauth_router import router as oauth_router
from voucher_service.auth.pepper import load_pepper
from voucher_service.auth.router import router as auth_router
from voucher_service.callbacks.router import router as callbacks_router
from voucher_service.clients.router import router as clients_router
from voucher_service.db import Database, create_engine
from voucher_service.health.router import router as health_router
from voucher_service.keys.router import router as keys_router
from voucher_service.keys.secret import derive_key, load_or_create_secret
from voucher_service.keys.service import KeyRing
from voucher_service.kit.middleware import (
    BodySizeLimitMiddleware,
    ContentEncodingMiddleware,
    RequestContextMiddleware,
    RequestDeadlineMiddleware,
)
from voucher_service.kit.openapi_additions import install_openapi_additions
from voucher_service.kit.problems import install_problem_handlers
from voucher_service.ledger_admin.router import router as ledger_admin_router
from voucher_service.metrics.router import router as metrics_router
from voucher_service.organisations.router import router as organisations_router
from voucher_service.portal import flash
from voucher_service.portal.router import ROUTERS as PORTAL_ROUTERS
from voucher_service.portal.router import PortalErrorPages
from voucher_service.portal.security import PortalSecurityHeadersMiddleware
from voucher_service.portal.templating import PORTAL_STATIC
from voucher_service.portal.uploads import portal_upload_limits
from voucher_service.programs.router import router as programs_router
from voucher_service.provider_registry import problems as registry_problems  # noqa: F401
from voucher_service.provider_registry.router import router as provider_registry_router
from voucher_service.reconciliation.router import admin as reconciliation_admin_router
from voucher_service.reconciliation.router import provider as reconciliation_provider_router
from voucher_service.reconciliation.router import statement_limits
from voucher_service.redemptions.router import holder_router as voucher_redemptions_router
from voucher_service.redemptions.router import router as redemptions_router
from voucher_service.reports.router import public as open_data_router
from voucher_service.reports.router import router as reports_router
from voucher_service.settings import Settings
from voucher_service.settlements.enterprise import router as settlements_enterprise_router
from voucher_service.settlements.router import admin as settlements_admin_router
from voucher_service.settlements.router import provider as settlements_provider_router
from voucher_service.users.router import router as users_router
from voucher_service.vouchers.router import router as vouchers_router
from voucher_service.webhooks import problems as webhook_problems  # noqa: F401 (registers them)
from voucher_service.webhooks.admin_router import router as webhooks_admin_router
from voucher_service.webhooks.openapi import install_webhook_docs
from voucher_service.webhooks.router import router as webhooks_router
from voucher_service.worker.registry import JobContext
from voucher_service.worker.runner import Worker

logger = logging.getLogger("voucher_service")

DESCRIPTION = """
Compute vouchers (算力券) and model vouchers (模型券): public money that pays part of what a
startup spends on GPU time or large-model API calls.

* Amounts are integers in fen (分); rates are basis points (3000 = 30%).
* Errors are RFC 9457 `application/problem+json` with a stable `code`.
* Lists are keyset-paginated: `?limit=&cursor=` → `{"items": [...], "next_cursor": ...}`.
"""


def create_app(settings: Settings | None = None, *, embedded_worker: bool | None = None) -> FastAPI:
    """Build the application for ``settings`` (read from the environment when omitted)."""
    settings = settings or Settings()
    run_worker = settings.embedded_worker if embedded_worker is None else embedded_worker
    keyring = KeyRing(settings.key_dir, settings.signing_key_file)
    keyring.ensure()
    database = Database(create_engine(settings))

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        worker_task: asyncio.Task[None] | None = None
        worker: Worker | None = None
        if run_worker:
            worker = Worker(JobContext(database, settings, keyring, Worker.make_id()))
            worker_task = asyncio.create_task(worker.run(), name="embedded-worker")
        try:
            yield
        finally:
            if worker and worker_task:
                worker.stop()
                await worker_task
            await database.dispose()

    # FastAPIOffline serves the Swagger UI and ReDoc assets from the installed package: the
    # service must work on an isolated network, so nothing may come from a CDN.
    app = FastAPIOffline(
        title="Voucher service (算力券 / 模型券)",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.keyring = keyring
    server_secret = load_or_create_secret(settings.secret_path)
    app.state.client_secret_pepper = load_pepper(settings, server_secret)
    install_problem_handlers(app)
    # Innermost: writes the audit events a request recorded "separately" once it is over.
    app.add_middleware(AuditFlushMiddleware)
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        larger_bodies=[
            *upload_limits(settings),
            *statement_limits(settings.statement_max_bytes),
            *portal_upload_limits(settings),
        ],
    )
    app.add_middleware(ContentEncodingMiddleware)
    app.add_middleware(RequestDeadlineMiddleware, seconds=settings.request_timeout_seconds)
    app.add_middleware(RequestContextMiddleware)
    app.router.routes.extend(_api_routes())
    install_webhook_docs(app)
    mount_portal(app, server_secret)
    install_openapi_additions(app)
    return app


@functools.cache
def _api_routes() -> tuple[BaseRoute, ...]:
    """Every API route, prepared once per process and shared by every app made in it.

    FastAPI analyses a route's parameters, dependencies and response model the first time an app
    that includes it is used, and keeps the result on the included router: built once, the work
    is done once, not again for each app (the test suite makes one per test). The shared routes
    ask no app for ``dependency_overrides``: this code base uses none.
    """
    routes = APIRouter()
    # Routes are tried in order: the redemption routes, the busiest by far, come first (no other
    # router has a path under /v1/provider/vouchers or /v1/provider/redemptions).
    for router in (
        redemptions_router,
        health_router,
        keys_router,
        auth_router,
        oauth_router,
        users_router,
        organisations_router,
        clients_router,
        webhooks_router,
        webhooks_admin_router,
        callbacks_router,
        audit_router,
        ledger_admin_router,
        settlements_admin_router,
        settlements_provider_router,
        settlements_enterprise_router,
        reconciliation_admin_router,
        reconciliation_provider_router,
        reports_router,
        open_data_router,
        provider_registry_router,
        programs_router,
        vouchers_router,
        voucher_redemptions_router,
        metrics_router,
        *APPLICATION_ROUTERS,
    ):
        routes.include_router(router)
    return tuple(routes.routes)


@functools.cache
def _portal_routes() -> tuple[BaseRoute, ...]:
    """The portal's routes, prepared once per process like ``_api_routes``."""
    routes = APIRouter()
    for router in PORTAL_ROUTERS:
        routes.include_router(router)
    return tuple(routes.routes)


def mount_portal(app: FastAPI, server_secret: bytes) -> None:
    """The server-rendered portal under /portal, with its static files and error pages."""
    app.state.csrf_key = derive_key(server_secret, "portal-csrf")
    app.state.flash_box = flash.box_for(server_secret)
    app.state.html_error_pages = PortalErrorPages()
    app.add_middleware(PortalSecurityHeadersMiddleware)
    app.mount("/portal/static", StaticFiles(directory=PORTAL_STATIC), name="portal-static")
    app.router.routes.extend(_portal_routes())


def create_app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` (several worker processes)."""
    return create_app()
