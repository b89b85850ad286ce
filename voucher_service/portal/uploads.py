"""The portal's upload forms take bodies as large as the API's upload routes (one file each)."""

from __future__ import annotations

from voucher_service.applications.routers import MULTIPART_OVERHEAD
from voucher_service.claims.service import PROOF_KINDS
from voucher_service.settings import Settings

UPLOAD_PATHS = (r"/portal/enterprise/applications/[^/]+/attachments",)
STATEMENT_PATH = r"/portal/provider/statements"  # a provider's statement, as large as the API's
CLAIM_PATH = r"/portal/enterprise/claims/new"  # a claim with its three proofs


def portal_upload_limits(settings: Settings) -> list[tuple[str, int]]:
    """(path pattern, body limit) of the portal's upload forms."""
    return [
        (pattern, settings.attachment_max_bytes + MULTIPART_OVERHEAD) for pattern in UPLOAD_PATHS
    ] + [
        (STATEMENT_PATH, settings.statement_max_bytes + MULTIPART_OVERHEAD),
        (CLAIM_PATH, settings.attachment_max_bytes * len(PROOF_KINDS) + MULTIPART_OVERHEAD),
    ]
