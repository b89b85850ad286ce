"""The server secret: 32 random bytes from which every server-side HMAC key is derived.

Generated into the key directory on first start, readable by its owner only (or given as
``VOUCHER_SECRET_KEY_FILE``); API replicas share it the way they share the key ring. Each use
(CSRF tokens, the client-secret pepper, ...) gets its own key from :func:`derive_key`, so one
purpose's tokens are never valid for another.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

SECRET_BYTES = 32


def write_new_file(path: Path, content: bytes) -> None:
    """Create ``path`` with ``content`` (mode 0600) atomically; keep an existing file.

    Written in full under a temporary name, then linked into place: a process starting at the
    same moment either wins the link or reads the complete file of the one that did.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()


def load_or_create_secret(path: Path) -> bytes:
    """The secret stored at ``path``, created there if missing."""
    if not path.exists():
        write_new_file(path, secrets.token_bytes(SECRET_BYTES))
    secret = path.read_bytes()
    if len(secret) < SECRET_BYTES:
        raise ValueError(f"the server secret in {path} is shorter than {SECRET_BYTES} bytes")
    return secret


def derive_key(secret: bytes, purpose: str) -> bytes:
    """A key for one ``purpose``, derived from the server secret (HMAC-SHA256)."""
    return hmac.new(secret, f"voucher-service/{purpose}".encode(), hashlib.sha256).digest()
