"""``GET /.well-known/jwks.json``: the public keys that verify our tokens, receipts and seals."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from voucher_service.dependencies import KeyRingDep

router = APIRouter(tags=["keys"])


@router.get(
    "/.well-known/jwks.json",
    summary="Public signing keys (JWKS)",
    response_description="RFC 7517 key set; the first key is the one signing now",
)
async def jwks(keyring: KeyRingDep, response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "public, max-age=300"
    return keyring.jwks()
