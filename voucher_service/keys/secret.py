"""The server secret: 32 random bytes for HMACs (CSRF tokens, opaque ids), never sent out.

Generated into the key directory on first start, readable by its owner only, or given as
``VOUCHER_SECRET_KEY_FILE``. API replicas share it the same way they share the key ring.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

SECRET_BYTES = 32


def load_or_create_secret(path: Path) -> bytes:
    """The secret stored at ``path``, created there if missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_bytes(SECRET_BYTES))
    secret = path.read_bytes()
    if len(secret) < SECRET_BYTES:
        raise ValueError(f"the server secret in {path} is shorter than {SECRET_BYTES} bytes")
    return secret
