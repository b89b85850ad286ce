"""The server-side key (pepper) under which client secrets are hashed.

Taken from ``VOUCHER_CLIENT_SECRET_PEPPER`` when set (a mounted secret in production), otherwise
derived from the server secret (``voucher_service.keys.secret``), which replicas share.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from voucher_service.keys.secret import derive_key
from voucher_service.settings import Settings


def load_pepper(settings: Settings, server_secret: bytes) -> bytes:
    """The configured pepper, or one derived from the server secret."""
    if settings.client_secret_pepper is not None:
        return settings.client_secret_pepper.get_secret_value().encode()
    return derive_key(server_secret, "client-secret-pepper")


async def get_pepper(request: Request) -> bytes:
    """The pepper loaded at start-up (``app.state.client_secret_pepper``)."""
    return request.app.state.client_secret_pepper  # type: ignore[no-any-return]


PepperDep = Annotated[bytes, Depends(get_pepper)]
