"""The server-side key (pepper) under which client secrets are hashed.

Taken from ``VOUCHER_CLIENT_SECRET_PEPPER`` when set (a mounted secret in production), otherwise
from a file generated beside the signing keys on first start, shared by replicas like the keys.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request

from voucher_service.settings import Settings

PEPPER_FILE = "client_secret_pepper"


def load_pepper(settings: Settings) -> bytes:
    """The pepper, generating its file (owner-readable only) if there is none yet."""
    if settings.client_secret_pepper is not None:
        return settings.client_secret_pepper.get_secret_value().encode()
    path = settings.key_dir / PEPPER_FILE
    if not path.exists():
        _create(path)
    return path.read_bytes().strip()


def _create(path: Path) -> None:
    # Written in full under a temporary name, then linked into place: a replica starting at the
    # same moment either wins the link or reads the complete file of the one that did.
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{PEPPER_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()


def get_pepper(request: Request) -> bytes:
    """The pepper loaded at start-up (``app.state.client_secret_pepper``)."""
    return request.app.state.client_secret_pepper  # type: ignore[no-any-return]


PepperDep = Annotated[bytes, Depends(get_pepper)]
