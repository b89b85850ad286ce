"""The routers of the applications domain, and the body limit of its upload routes."""

from __future__ import annotations

from fastapi import APIRouter

from voucher_service.applications.admin_router import router as admin_router
from voucher_service.applications.public_router import router as public_router
from voucher_service.applications.router import router as enterprise_router
from voucher_service.claims.router import router as claims_router
from voucher_service.settings import Settings

ROUTERS: tuple[APIRouter, ...] = (enterprise_router, admin_router, public_router, claims_router)
#: Multipart framing around the file: boundaries, headers, the ``kind`` field.
MULTIPART_OVERHEAD = 64 * 1024
#: Upload routes and how many files each takes at most.
UPLOAD_PATHS = ((r"/v1/applications/[^/]+/attachments", 1), (r"/v1/claims", 3))


def upload_limits(settings: Settings) -> list[tuple[str, int]]:
    """(path pattern, body limit) of the routes that take files."""
    return [
        (pattern, settings.attachment_max_bytes * count + MULTIPART_OVERHEAD)
        for pattern, count in UPLOAD_PATHS
    ]
